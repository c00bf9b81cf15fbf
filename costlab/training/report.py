"""A training step of a SOURCE as plain data (``costlab.train/1``) and as a table: what the CLI prints.

``train_source`` loads and analyses the source in train mode, counts the step and plans its memory;
``train_document`` and ``train_table`` render it. No torch here (a Python reference is captured by
``costlab.sources`` through the bridge, as everywhere else).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..analysis import analyze, prefix
from ..document import shape_list, value
from ..numbers import format_bytes, format_int, format_ratio, format_si, is_int
from .fit import Fit, largest_batch, largest_resolution
from .schedule import Memory, plan
from .step import TrainStep, train_step

SCHEMA = "costlab.train/1"


@dataclass(frozen=True)
class Training:
    """One source's training step, its memory and (optionally) what fits."""

    step: TrainStep
    memory: Memory
    dtype: str
    precision: str
    fit: Optional[Fit] = None
    fit_kind: str = ""
    inference_macs: Any = 0  # the same model at inference (--mode infer): the forward a deployed model runs


def _load(source: str, input_shape: Any, batch: Any) -> Any:
    from ..sources import load_source

    return load_source(source, input_shape, batch, "train")


def train_source(source: str, input_shape: Any = None, batch: Any = 1, frozen: Sequence[str] = (), recompute: Sequence[str] = (),
                 optimizer: str = "sgd", dtype: str = "float32", precision: str = "pure", convention: str = "macs",
                 memory_limit: Optional[int] = None) -> Training:
    """Count a training step of ``source``; with ``memory_limit``, also the largest batch that fits (or the
    largest resolution, when the input has a name such as 3xRxR)."""
    from ..sources import load_source

    graph = _load(source, input_shape, batch)
    step = _step(graph, input_shape, batch, frozen, recompute, optimizer, convention)
    memory = plan(graph, step, dtype, precision)
    infer_graph = load_source(source, input_shape, batch, "infer")
    infer = analyze(infer_graph, input_shape, batch, "infer")
    fit, kind = None, ""
    if memory_limit is not None:
        symbolic = input_shape is not None and not all(is_int(d) for d in input_shape)

        def at_batch(n: int) -> Memory:
            g = _load(source, input_shape, n)
            return plan(g, _step(g, input_shape, n, frozen, recompute, optimizer, convention), dtype, precision)

        def at_resolution(r: int) -> Memory:
            shape = (input_shape[0], r, r)
            g = _load(source, shape, batch)
            return plan(g, _step(g, shape, batch, frozen, recompute, optimizer, convention), dtype, precision)

        if symbolic:
            fit, kind = largest_resolution(at_resolution, memory_limit, 32, 8192), "resolution"
        else:
            fit, kind = largest_batch(at_batch, memory_limit, start=2), "batch"
    return Training(step, memory, dtype, precision, fit, kind, infer.total().macs)


def _step(graph: Any, input_shape: Any, batch: Any, frozen: Sequence[str], recompute: Sequence[str], optimizer: str,
          convention: str) -> TrainStep:
    return train_step(graph, analyze(graph, input_shape, batch, "train"), frozen, recompute, optimizer, convention)


def merged_rows(step: TrainStep, depth: Optional[int]) -> List[Dict[str, Any]]:
    """Rows (or blocks, by the first ``depth`` parts of the names) with their counts and saved bytes."""
    out: Dict[str, Dict[str, Any]] = {}
    for r in step.rows:
        key = r.name if depth is None else prefix(r.name, depth)
        entry = out.setdefault(key, {"name": key, "op": r.op, "forward": 0, "grad_input": 0, "grad_weight": 0,
                                     "recompute": 0, "trainable": 0, "note": r.text})
        if entry["name"] != r.name or entry["op"] != r.op:
            entry["op"], entry["note"] = "group" if depth is not None and key != r.name else entry["op"], ""
        for k in ("forward", "grad_input", "grad_weight", "recompute", "trainable"):
            entry[k] = entry[k] + getattr(r, k)
    return list(out.values())


def _saved_by_row(t: Training, depth: Optional[int]) -> Dict[str, Any]:
    sums: Dict[str, Any] = {}
    for name, items in t.memory.per_row.items():
        key = name if depth is None else prefix(name, depth)
        sums[key] = sums.get(key, 0) + sum((s.bytes for s in items if s.kind != "param"), 0)
    return sums


def _point(p: Any) -> Dict[str, Any]:
    return {"bytes": value(p.bytes), "phase": p.phase, "layer": p.name}


def totals(t: Training) -> Dict[str, Any]:
    """Forward, backward (input and weight gradients), recompute, the step, and the optimizer's update."""
    s = t.step
    fwd = s.total("forward")
    step_total = s.total("total")
    return {
        "forward": fwd, "grad_input": s.total("grad_input"), "grad_weight": s.total("grad_weight"), "recompute": s.total("recompute"),
        "backward": s.total("backward"), "step": step_total, "inference_forward": t.inference_macs,
        "optimizer_ops": s.update_ops, "trainable_params": s.trainable,
        "vs_3x_forward": (step_total / (3 * fwd)) if is_int(step_total) and is_int(fwd) and fwd else None,
    }


def train_document(t: Training, depth: Optional[int] = None) -> Dict[str, Any]:
    """The ``costlab.train/1`` document: exact integers, formula strings for symbolic values, fixed key order."""
    s, m = t.step, t.memory
    a = s.analysis
    tot = totals(t)
    numeric = all(is_int(p.bytes) for p in m.timeline)
    doc: Dict[str, Any] = {
        "schema": SCHEMA, "model": a.model, "input": shape_list(a.input), "batch": value(a.batch), "convention": s.convention,
        "optimizer": s.optimizer.name, "dtype": t.dtype, "precision": t.precision, "frozen": list(s.frozen),
        "recompute": list(s.recompute),
        "totals": {k: (value(v) if k != "vs_3x_forward" else (round(v, 4) if v is not None else None)) for k, v in tot.items()},
        "optimizer_update": {"ops_per_param": s.optimizer.ops, "unit": "elementwise ops (not MACs)", "source": s.optimizer.source,
                             "code": list(s.optimizer.code)},
        "memory": {
            "params": value(m.params), "grads": value(m.grads), "master_weights": value(m.master), "optimizer_state": value(m.optimizer),
            "saved_activations": value(m.saved_activations), "saved_params": value(m.saved_params),
            "training_peak": _point(m.peak) if numeric else None, "inference_peak": _point(m.inference_peak) if numeric else None,
        },
        "fit": None if t.fit is None else {"kind": t.fit_kind, "value": t.fit.value, "limit": t.fit.limit, "peak": t.fit.peak,
                                           "where": t.fit.where},
        "uncounted": [r.name for r in s.uncounted] + [f"{n} (saved tensors)" for n in m.uncounted],
        "layers": [],
    }
    saved = _saved_by_row(t, depth)
    for r in merged_rows(s, depth):
        doc["layers"].append({k: value(v) if k not in ("name", "op", "note") else v for k, v in r.items()} | {"saved_bytes": value(saved.get(r["name"], 0))})
    return doc


def train_table(t: Training, fmt: str = "table", depth: Optional[int] = None) -> str:
    """Per layer: forward, input and weight gradients, recompute, saved bytes; then totals, memory and fit."""
    from tabulate import tabulate

    saved = _saved_by_row(t, depth)
    rows = []
    for r in merged_rows(t.step, depth):
        rows.append([r["name"], r["op"], format_si(r["forward"]), format_si(r["grad_input"]), format_si(r["grad_weight"]),
                     format_si(r["recompute"]), format_bytes(saved.get(r["name"], 0)), r["note"]])
    tot = totals(t)
    rows.append(["total", "", format_int(tot["forward"]), format_int(tot["grad_input"]), format_int(tot["grad_weight"]),
                 format_int(tot["recompute"]), format_bytes(t.memory.saved_activations), ""])
    headers = ["layer", "op", "forward", "grad input", "grad weight", "recompute", "saved", "backward"]
    text = tabulate(rows, headers, tablefmt="github" if fmt == "markdown" else "simple") + "\n\n"
    return text + "\n".join(summary_lines(t)) + "\n"


def summary_lines(t: Training) -> List[str]:
    """The step total, the rule-of-thumb ratio, the optimizer's update, memory, peaks and fit, one line each."""
    s, m, tot = t.step, t.memory, totals(t)
    unit = "MACs" if s.convention == "macs" else "FLOPs"
    lines = [f"training step: forward {format_int(tot['forward'])} + backward {format_int(tot['backward'])} "
             f"(input grads {format_int(tot['grad_input'])}, weight grads {format_int(tot['grad_weight'])})"
             + (f" + recompute {format_int(tot['recompute'])}" if tot["recompute"] != 0 else "") + f" = {format_int(tot['step'])} {unit}"]
    if tot["vs_3x_forward"] is not None:
        lines.append(f"vs the '3 x forward' rule of thumb ({format_int(3 * tot['forward'])}): {format_ratio(tot['vs_3x_forward'])}; "
                     f"inference forward (--mode infer) {format_int(tot['inference_forward'])}")
    lines.append(f"optimizer {s.optimizer.name}: {s.optimizer.ops} elementwise ops per trainable parameter x {format_int(s.trainable)} = "
                 f"{format_int(tot['optimizer_ops'])} ops (not MACs; {s.optimizer.source})")
    lines.append(f"memory ({t.dtype}, {t.precision}): params {format_bytes(m.params)}, grads {format_bytes(m.grads)}, "
                 f"optimizer state {format_bytes(m.optimizer)}" + (f", fp32 master weights {format_bytes(m.master)}" if m.master else "")
                 + f", saved activations {format_bytes(m.saved_activations)}")
    if all(is_int(p.bytes) for p in m.timeline):
        lines.append(f"training peak {format_bytes(m.peak.bytes)} ({format_int(m.peak.bytes)} B) at {m.peak.phase} {m.peak.name}; "
                     f"inference peak {format_bytes(m.inference_peak.bytes)} at {m.inference_peak.name}")
    if t.fit is not None:
        what = "batch" if t.fit_kind == "batch" else "resolution (R x R)"
        lines.append(f"largest {what} within {format_bytes(t.fit.limit)}: {t.fit.value} (training peak {format_bytes(t.fit.peak)} at {t.fit.where})"
                     if t.fit.value else f"nothing fits in {format_bytes(t.fit.limit)}: the smallest needs {format_bytes(t.fit.peak)}")
    return lines


def uncounted_lines(t: Training) -> List[str]:
    """Ops costlab has no backward or saved-tensor rule for (shown on stderr, never a silent zero)."""
    names: List[Tuple[str, str]] = [(r.name, f"no backward rule for {getattr(r.row.layer, 'kind', r.op)}") for r in t.step.uncounted]
    names += [(n, "no saved-tensor rule") for n in t.memory.uncounted]
    return [f"uncounted: {n}: {why}" for n, why in names]


def compare_records(results: Sequence[Tuple[str, Training]]) -> List[Dict[str, Any]]:
    """Per model: inference forward, training step, their ratio, the 3x-forward ratio, trainable params, peaks."""
    out = []
    for name, t in results:
        tot, m = totals(t), t.memory
        numeric = all(is_int(p.bytes) for p in m.timeline)
        ratio = (tot["step"] / tot["inference_forward"]) if is_int(tot["step"]) and tot["inference_forward"] else None
        out.append({"model": name, "inference_macs": value(tot["inference_forward"]), "train_step_macs": value(tot["step"]),
                    "step_vs_inference": round(ratio, 4) if ratio is not None else None,
                    "step_vs_3x_forward": round(tot["vs_3x_forward"], 4) if tot["vs_3x_forward"] is not None else None,
                    "trainable_params": tot["trainable_params"],
                    "training_peak_bytes": value(m.peak.bytes) if numeric else None,
                    "inference_peak_bytes": value(m.inference_peak.bytes) if numeric else None})
    return out


def compare_table(records: List[Dict[str, Any]], fmt: str = "table") -> str:
    """Training next to inference, one line per model."""
    from tabulate import tabulate

    def size(v: Any) -> str:
        return "" if v is None else format_bytes(v)

    rows = [[r["model"], format_si(r["inference_macs"]), format_si(r["train_step_macs"]),
             "" if r["step_vs_inference"] is None else format_ratio(r["step_vs_inference"]),
             "" if r["step_vs_3x_forward"] is None else format_ratio(r["step_vs_3x_forward"]), format_si(r["trainable_params"]),
             size(r["inference_peak_bytes"]), size(r["training_peak_bytes"])] for r in records]
    headers = ["model", "inference MACs", "training step MACs", "step / inference", "step / 3x forward", "trained params",
               "inference peak", "training peak"]
    return tabulate(rows, headers, tablefmt="github" if fmt == "markdown" else "simple") + "\n"
