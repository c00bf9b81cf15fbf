"""One model's part of an HTML report: totals, the cost tree's rows, its charts and its network data."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ..numbers import format_int, format_si, is_int
from ..shapes import format_shape
from .network import network
from .report_rows import table_body
from .svg import Bar, aggregate, bar_chart, nothing, step_chart
from .table import shape_text
from .tree import TreeNode, block_count, blocks, cost_tree, tree_depth
from .vocabulary import canonical_op

EXPAND_BELOW = 16  # models with at most this many rows open fully; bigger ones start with blocks collapsed


def si(value: Any) -> str:
    """The report's number form: costlab's formatter with the same digits everywhere ('7.00M', '6.62M')."""
    return format_si(value, keep_zeros=True)


def _pct(x: Optional[float]) -> str:
    return "" if x is None else f"{x:.1f}%"


def _relative(key: str, parent: Optional[str]) -> str:
    return key[len(parent):].lstrip(".") if parent and key.startswith(parent) else key


def _group_formula(node: TreeNode, children: List[TreeNode]) -> str:
    costly = [c for c in children if c.macs != 0]
    if not costly:
        return f"{node.layers} layers, 0 MACs"
    if len(costly) == 1:
        return f"{node.layers} layers; all MACs in {costly[0].key}"
    parts = " + ".join(si(c.macs) for c in costly)
    return f"{parts} = {format_int(node.macs)}"


def _numbers(macs: Any, params: int, acts: Any) -> Dict[str, Any]:
    return {"macs": format_int(macs), "macs_si": si(macs), "macs_value": macs if is_int(macs) else 0,
            "params": format_int(params), "params_value": params, "params_si": si(params), "acts_si": si(acts), "acts_value": acts if is_int(acts) else 0}


def tree_rows(analysis: Any, tree: Sequence[TreeNode], statuses: Optional[Dict[str, str]],
              timings: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The table's rows: groups (subtotals) and layers, in network order, ready for the template."""
    rows, batch = analysis.rows, analysis.batch
    kids: Dict[int, List[TreeNode]] = {}
    for n in tree:
        if n.parent is not None:
            kids.setdefault(n.parent, []).append(n)
    group_ops = dict(analysis.groups)
    expand = len(rows) <= EXPAND_BELOW
    shapes: Dict[Any, str] = {}  # the same few shapes recur across thousands of rows

    def shape(s: Any) -> str:
        if s not in shapes:
            shapes[s] = shape_text(s, batch)
        return shapes[s]

    seconds: Dict[int, float] = {}
    out = []
    for n in tree:
        parent = tree[n.parent] if n.parent is not None else None
        item: Dict[str, Any] = {
            "order": n.order, "parent": "" if n.parent is None else n.parent, "level": n.level, "key": n.key,
            "label": _relative(n.key, parent.key if parent else None), "group": n.index is None, "layers": n.layers,
            "share": _pct(n.share), "share_value": f"{n.share or 0:.6f}", "share_parent": _pct(n.share_of_parent),
            "zero": n.macs == 0 and n.params == 0, "hidden": n.level > 0 and not expand, "open": expand,
            **_numbers(n.macs, n.params, n.activations),
        }
        if n.index is not None:
            r = rows[n.index]
            item.update(op=canonical_op(r.op), op_raw=r.op, formula=r.formula, index=n.index,
                        ins=" ".join(shape(s) for s in r.in_shapes), out=shape(r.out_shape),
                        status=(statuses or {}).get(r.name.split("#", 1)[0], "exact" if statuses else ""))
            unit = r.name.split("#", 1)[0]
            measured = (timings or {}).pop(unit, None)
            if measured is not None:
                seconds[n.order] = measured.seconds
                item.update(_timing(measured.seconds, measured.achieved, measured.bound))
        else:
            first, last = _leaves(tree, n, rows)
            item.update(op=group_ops.get(n.key, "group"), op_raw="", formula=_group_formula(n, kids.get(n.order, [])), index="",
                        ins=" ".join(shape(s) for s in first.in_shapes), out=shape(last.out_shape), status="")
        out.append(item)
    if seconds:
        _group_times(tree, out, seconds)
    if statuses is not None:
        _group_statuses(tree, out)
    return out


def _group_statuses(tree: Sequence[TreeNode], out: List[Dict[str, Any]]) -> None:
    """A group's fvcore check: 'exact' when all its layers are, else the counts ('1 mismatch, 13 exact')."""
    counts: Dict[int, Dict[str, int]] = {}
    for n in tree:
        if n.index is None or not out[n.order]["status"]:
            continue
        p = n.parent
        while p is not None:
            c = counts.setdefault(p, {})
            c[out[n.order]["status"]] = c.get(out[n.order]["status"], 0) + 1
            p = tree[p].parent
    for order, c in counts.items():
        worst = next((k for k in ("mismatch", "explained", "exact") if k in c), "exact")
        out[order]["status"] = worst if len(c) == 1 else ", ".join(f"{v} {k}" for k, v in sorted(c.items()))
        out[order]["status_class"] = worst


def _leaves(tree: Sequence[TreeNode], n: TreeNode, rows: Sequence[Any]) -> Any:
    first = last = None
    for k in range(n.order + 1, len(tree)):
        m = tree[k]
        if m.level <= n.level:
            break
        if m.index is not None:
            first = first or rows[m.index]
            last = rows[m.index]
    return first, last


def _timing(seconds: float, achieved: float, bound: float) -> Dict[str, Any]:
    return {"ms": f"{seconds * 1e3:.3f}", "ms_value": f"{seconds * 1e3:.6f}", "tflops": f"{achieved / 1e12:.3f}" if achieved else "",
            "roof": f"{100 * achieved / bound:.1f}%" if bound and achieved else ""}


def _group_times(tree: Sequence[TreeNode], out: List[Dict[str, Any]], seconds: Dict[int, float]) -> None:
    for order, s in list(seconds.items()):
        p = tree[order].parent
        while p is not None:
            out[p]["ms_sum"] = out[p].get("ms_sum", 0.0) + s
            p = tree[p].parent
    for item in out:
        if "ms_sum" in item:
            item.update(ms=f"{item['ms_sum'] * 1e3:.3f}", ms_value=f"{item['ms_sum'] * 1e3:.6f}", tflops="", roof="")


def charts(analysis: Any, depth: int, prefix_id: str) -> List[str]:
    """MACs and params per block at ``depth``, MACs by layer type, cumulative MACs: figures (or why there is nothing)."""
    name = analysis.model
    total = analysis.total()
    if not (is_int(total.macs) and is_int(total.activations)):
        return [nothing(f"{name}: charts", "the input is symbolic; pass numbers to --input to chart it")]
    top = blocks(analysis, depth)
    what = "layers" if len(top) == len(analysis.rows) else "blocks"

    def block_bar(key: str, m: int, p: int, value: int, text: str) -> Bar:
        tip = f"{key}\nMACs {si(m)} ({100 * m / total.macs if total.macs else 0:.1f}%)\nparams {si(p)}"
        return Bar(key, value, text, tip, key, "block")

    macs = aggregate([block_bar(k, m, p, m, f"{si(m)} · {100 * m / total.macs:.1f}%") for k, m, p in top if m], what=what)
    params = aggregate([block_bar(k, m, p, p, si(p) + (f" · {100 * p / total.params:.1f}%" if total.params else ""))
                        for k, m, p in top if p], what=what)
    by_op: Dict[str, List[int]] = {}
    for r in analysis.rows:
        by_op.setdefault(canonical_op(r.op), [0, 0, 0])
        acc = by_op[canonical_op(r.op)]
        acc[0] += r.macs
        acc[1] += r.params
        acc[2] += 1
    ops = [Bar(op, m, f"{si(m)} · {100 * m / total.macs:.1f}%",
               f"{op} ({c} layers)\nMACs {si(m)} ({100 * m / total.macs:.1f}%)\nparams {si(p)}", op, "op")
           for op, (m, p, c) in sorted(by_op.items(), key=lambda kv: -kv[1][0]) if m]
    running, points = 0, []
    for r in analysis.rows:
        running += r.macs
        points.append((r.name, running))
    return [
        bar_chart(macs, f"{name}: MACs per {what[:-1]} (share of {si(total.macs)} MACs)", f"{prefix_id}-macs", empty="no layer has MACs"),
        bar_chart(params, f"{name}: params per {what[:-1]} (share of {si(total.params)} params)", f"{prefix_id}-params", "#2e9e6a", "no layer has params"),
        bar_chart(ops, f"{name}: MACs by layer type", f"{prefix_id}-ops", "#a452b8", "no layer has MACs"),
        step_chart(points, f"{name}: cumulative MACs along the network", f"{prefix_id}-cumulative"),
    ]


def model_context(analysis: Any, index: int, depth: int, graph: Optional[Any], statuses: Optional[Dict[str, str]],
                  summary: str, profile: Optional[Any]) -> Dict[str, Any]:
    """Everything the template needs about one model (``depth``: the tree's top level and the block charts)."""
    from ..document import analysis_dict

    t = analysis.total()
    tree = cost_tree(analysis, tree_depth(analysis, depth))
    timings = {m.name: m for m in profile.measured} if profile is not None else None
    rows = tree_rows(analysis, tree, statuses, timings)
    timed = any("ms" in r for r in rows)
    zero_layers = sum(1 for r in rows if not r["group"] and r["zero"])
    return {
        "id": f"m{index}", "model": analysis.model, "description": analysis.description, "input": format_shape(analysis.input),
        "batch": analysis.batch, "mode": analysis.mode, "convention": analysis.convention, "depth": depth,
        "macs": format_int(t.macs), "macs_si": si(t.macs), "params": format_int(t.params), "params_si": si(t.params),
        "biases": format_int(t.biases), "activations": format_int(t.activations), "activations_si": si(t.activations),
        "charts": charts(analysis, depth, f"m{index}"), "verification": summary,
        "body": table_body(f"m{index}", rows, timed, bool(summary)),
        "layer_count": len(analysis.rows), "zero_layers": zero_layers, "block_count": block_count(analysis, depth),
        "profile": profile, "timed": timed,
        "layers_json": analysis_dict(analysis)["layers"], "network": network(analysis, tree, graph),
        "notes": _notes(analysis),
    }


def _notes(analysis: Any) -> List[str]:
    """Lines the reader must see: ops costlab could not count (never a silent zero) and the assumptions a
    capture made (proposals after NMS, ...)."""
    notes = [f"not counted (0 MACs shown, not a real zero): {u.text()}" for u in analysis.uncounted]
    notes += [str(line) for line in analysis.assumptions]
    return notes
