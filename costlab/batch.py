"""Many sources x many settings -> one table, on Dask when asked, resumable after a crash.

A run is a list of tasks (source, resolution, batch, width, mode). Tasks go out in chunks (all of
one source together, so a source is loaded once per chunk); each finished chunk is appended to a
journal beside the output in one write and flushed to disk, keyed by (source, its content digest,
settings). Run the same command again after a crash and every task already in the journal is
reused, not recomputed; a torn last line (a crash in the middle of a write) is dropped. When every
task is done the table is written atomically and the journal removed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .errors import CostlabError

COLUMNS = ("source", "resolution", "batch", "width", "mode", "macs", "params", "activations", "layers", "uncounted", "error")
VERIFY_COLUMNS = ("fvcore", "torch_params", "mismatches", "verified")  # with --verify: fvcore's count, PyTorch's params
SCHEMA = "costlab.batch/1"


@dataclass(frozen=True)
class Task:
    """One analysis: a source at one setting. resolution/width None: the source's own."""

    source: str
    resolution: Optional[int] = None
    batch: int = 1
    width: Optional[float] = None
    mode: str = "infer"
    digest: str = ""  # content digest of a spec file source ('' for built-in and Python models)
    verify: bool = False  # also trace the real model with fvcore (torch extra), as `costlab verify` does

    def key(self) -> str:
        """The journal key: the source, what it contained, and every setting."""
        return json.dumps([self.source, self.digest, self.resolution, self.batch, self.width, self.mode] + (["verify"] if self.verify else []))


def source_digest(source: str) -> str:
    """sha256 of a spec file's bytes, so an edited file is analysed again; '' for other sources."""
    from . import zoo
    from .sources import SPEC_SUFFIXES

    path = Path(source)
    if zoo.has(source) or not (path.suffix.lower() in SPEC_SUFFIXES and path.is_file()):
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def plan(sources: Sequence[str], resolutions: Sequence[Optional[int]] = (None,), batches: Sequence[int] = (1,),
         widths: Sequence[Optional[float]] = (None,), modes: Sequence[str] = ("infer",), verify: bool = False) -> List[Task]:
    """Every source at every combination of the settings, in that nesting order."""
    tasks = []
    for source in sources:
        digest = source_digest(source)
        for mode in modes:
            for resolution in resolutions:
                for batch in batches:
                    for width in widths:
                        tasks.append(Task(source, resolution, batch, width, mode, digest, verify))
    return tasks


def run_task(task: Task) -> Dict[str, Any]:
    """One row of the table. A source that cannot be analysed at this setting gives a row with its error."""
    from .analysis import analyze
    from .sources import is_reference, load_source

    row: Dict[str, Any] = {"source": task.source, "resolution": task.resolution, "batch": task.batch, "width": task.width,
                           "mode": task.mode, "macs": None, "params": None, "activations": None, "layers": None,
                           "uncounted": None, "error": None}
    try:
        if task.verify and (task.width is not None or task.batch != 1):
            raise CostlabError(f"{task.source}: --verify checks the model as it is, at batch 1 (no width multiplier)")
        shape = None
        if task.resolution is not None:
            channels = 3 if is_reference(task.source) else load_source(task.source).input_shape[0]
            shape = (channels, task.resolution, task.resolution)
        graph = load_source(task.source, shape, task.batch, task.mode)
        if task.width is not None:
            if graph.batch is not None:
                raise CostlabError(f"{task.source}: a width multiplier applies to spec files and built-in models, not captured PyTorch models")
            from .sweep import widen

            graph = widen(graph, task.width)
        analysis = analyze(graph, shape, task.batch, task.mode)
        totals = analysis.total()
        row.update(macs=int(totals.macs), params=int(totals.params), activations=int(totals.activations),
                   layers=len(analysis.rows), uncounted=sum(1 for r in analysis.rows if r.op == "unsupported"))
        if task.verify:
            row.update(_verified(task, shape))
    except CostlabError as e:
        row["error"] = " ".join(str(e).split())
    except Exception as e:  # a failing third-party model must not stop a thousand-model run: it is a row
        row["error"] = f"internal error: {type(e).__name__}: {' '.join(str(e).split())}"
    return row


def _verified(task: Task, shape: Any) -> Dict[str, Any]:
    """fvcore's count and PyTorch's parameters for the real model, as `costlab verify` reports them."""
    try:
        from .bridge.verify import verify_source
    except ImportError as e:
        raise CostlabError(f"{task.source}: --verify needs the torch extra (pip install 'costlab[torch]'): {e}") from None
    v = verify_source(task.source, shape, task.mode)
    return {"fvcore": int(v.fvcore), "torch_params": int(v.torch_params), "mismatches": v.count("mismatch"),
            "verified": "ok" if v.ok else "mismatch"}


def run_chunk(tasks: Sequence[Task]) -> List[Tuple[str, Dict[str, Any]]]:
    """(key, row) for each task: what a worker runs."""
    return [(t.key(), run_task(t)) for t in tasks]


def chunked(tasks: Sequence[Task], size: int) -> List[List[Task]]:
    """Consecutive tasks of one source, at most ``size`` per chunk."""
    chunks: List[List[Task]] = []
    for task in tasks:
        if chunks and len(chunks[-1]) < size and chunks[-1][0].source == task.source:
            chunks[-1].append(task)
        else:
            chunks.append([task])
    return chunks


class Journal:
    """Append-only JSON lines of finished results; one write (and fsync) per chunk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: Dict[str, Dict[str, Any]] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        good = 0  # bytes up to the last complete, parseable line
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                entry = json.loads(line)
                key, row = entry["key"], entry["row"]
            except (ValueError, KeyError, TypeError):
                break
            self.done[key] = row
            good += len(line)
        if good != len(data):  # a torn tail: cut it so the next append starts on a fresh line
            with open(self.path, "r+b") as handle:
                handle.truncate(good)

    def append(self, results: Iterable[Tuple[str, Dict[str, Any]]]) -> None:
        """Record a finished chunk."""
        results = list(results)
        text = "".join(json.dumps({"key": k, "row": r}, sort_keys=True) + "\n" for k, r in results)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            data = text.encode("utf-8")
            while data:  # a crash in between leaves a torn last line, which loading drops
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        self.done.update(results)

    def remove(self) -> None:
        """Delete the journal (the table holds everything now)."""
        if self.path.exists():
            self.path.unlink()


@dataclass
class Outcome:
    """Rows in plan order and how many tasks this run computed and reused from the journal."""

    rows: List[Dict[str, Any]]
    computed: int = 0
    reused: int = 0
    failed: int = field(default=0)  # rows with an error, or whose verification found a mismatch
    verify: bool = False


def journal_path(output: str) -> Path:
    """Where the journal of a run writing ``output`` lives."""
    target = Path(output)
    return target.with_name(f".{target.name}.journal.jsonl")


def run_batch(tasks: Sequence[Task], journal: Optional[Journal] = None, client: Any = None, chunk_size: int = 4,
              progress: Optional[Any] = None, on_chunk: Optional[Callable[[int], None]] = None) -> Outcome:
    """Run every task not already in the journal: in this process, or on a dask.distributed ``client``.

    ``progress`` is a tqdm-like object (``update(n)``); ``on_chunk(k)`` is called after the k-th chunk
    is journaled.
    """
    done: Dict[str, Dict[str, Any]] = dict(journal.done) if journal else {}
    todo = [t for t in tasks if t.key() not in done]
    reused = len(tasks) - len(todo)
    if progress is not None and reused:
        progress.update(reused)
    chunks = chunked(todo, chunk_size)
    finished = 0

    def record(results: List[Tuple[str, Dict[str, Any]]]) -> None:
        nonlocal finished
        if journal is not None:
            journal.append(results)
        done.update(results)
        finished += 1
        if progress is not None:
            progress.update(len(results))
        if on_chunk is not None:
            on_chunk(finished)

    if client is None:
        for chunk in chunks:
            record(run_chunk(chunk))
    else:
        from distributed import as_completed

        futures = client.map(run_chunk, chunks, pure=False)
        for future in as_completed(futures):
            record(future.result())
    rows = [done[t.key()] for t in tasks]
    return Outcome(rows, len(todo), reused, sum(1 for r in rows if r["error"] or r.get("verified") == "mismatch"),
                   any(t.verify for t in tasks))


def table_columns(rows: Sequence[Dict[str, Any]], verify: bool = False) -> Dict[str, np.ndarray]:
    """The rows as columns (object arrays: integers stay exact, missing values None); the fvcore
    columns when the run verified."""
    columns: Dict[str, np.ndarray] = {}
    for name in COLUMNS + (VERIFY_COLUMNS if verify else ()):
        column = np.empty(len(rows), dtype=object)
        column[:] = [r.get(name) for r in rows]
        columns[name] = column
    return columns


def write_outcome(outcome: Outcome, output: str, fmt: Optional[str] = None) -> None:
    """The table, atomically, as CSV, JSON or Parquet (by the suffix unless ``fmt`` says)."""
    from .tables import write_table

    write_table(table_columns(outcome.rows, outcome.verify), output, fmt, meta={"schema": SCHEMA})

