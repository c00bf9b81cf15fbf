"""Self-contained HTML cost reports (jinja2, autoescaped; inline CSS, JS, SVG and the dagre layout library).

A report holds, per model: totals, charts, a network view and a cost tree (model -> block -> branch ->
layer); with several models a comparison comes first. Nothing is fetched: the file works offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, List, Optional, Sequence

from .tree import AUTO_BLOCKS, auto_depth

DAGRE = "vendor/dagre-3.1.3.min.js"  # @dagrejs/dagre 3.1.3 from npm (MIT, see vendor/LICENSE-dagre)


@dataclass(frozen=True)
class ProfileView:
    """A measured profile for a report: per-module timings (``Measured`` rows), the roofline figure
    (SVG markup) and a line naming the device and the roof."""

    measured: Sequence[Any]
    roofline_svg: str
    heading: str


def report_depth(analysis: Any, depth: Optional[int] = None, max_blocks: int = AUTO_BLOCKS) -> int:
    """``depth`` when given, else the deepest level with at most ``max_blocks`` blocks."""
    return depth if depth is not None else auto_depth(analysis, max_blocks)


def _vendor(name: str) -> str:
    return resources.files("costlab").joinpath("templates").joinpath(name).read_text(encoding="utf-8")


def render_report(analyses: Sequence[Any], verifications: Optional[List[Any]] = None,
                  profiles: Optional[List[Any]] = None, depth: Optional[int] = None,
                  graphs: Optional[Sequence[Any]] = None) -> str:
    """The HTML text of a report on one or more analyses (comparison first when there are several).

    ``depth``: the blocks of the tree and the charts (default: automatic, per model); ``graphs``: the
    models' graphs (edges of the network view; without them layers are drawn in execution order);
    ``profiles``: per model a ``ProfileView`` (timings become table columns)."""
    import jinja2

    from .. import __version__
    from .report_compare import comparison_context
    from .report_model import model_context

    env = jinja2.Environment(loader=jinja2.PackageLoader("costlab", "templates"), autoescape=True)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    depths = [report_depth(a, depth) for a in analyses]
    models = []
    for i, analysis in enumerate(analyses):
        v = verifications[i] if verifications else None
        statuses = {u.name: u.status for u in v.units} if v else None
        summary = f"{v.count('exact')} exact, {v.count('explained')} explained, {v.count('mismatch')} mismatch" if v else ""
        profile = profiles[i] if profiles else None
        models.append(model_context(analysis, i + 1, depths[i], graphs[i] if graphs else None, statuses, summary, profile))
    comparison = comparison_context(analyses, depths) if len(analyses) > 1 else None
    return env.get_template("report.html.j2").render(
        title=" vs ".join(a.model for a in analyses), version=__version__, models=models, comparison=comparison,
        dagre=_vendor(DAGRE), script=_vendor("report.js"), style=_vendor("report.css"),
    )
