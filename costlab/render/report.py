"""Self-contained HTML cost reports (jinja2, autoescaped; inline CSS, JS and SVG charts)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ..numbers import format_int, format_si
from ..shapes import format_shape
from .table import shape_text


def _model_context(analysis: Any, statuses: Optional[Dict[str, str]], summary: str) -> Dict[str, Any]:
    from .charts import cumulative_figure, layers_figure, ops_figure, svg_text

    t = analysis.total()
    blocks = analysis.by_depth(1)
    charts = [svg_text(layers_figure(blocks)), svg_text(ops_figure(analysis)), svg_text(cumulative_figure(analysis))]
    rows = []
    for r in analysis.rows:
        share = 100 * r.macs / t.macs if t.macs else 0.0
        rows.append({
            "name": r.name, "op": r.op, "ins": " ".join(shape_text(s, analysis.batch) for s in r.in_shapes),
            "out": shape_text(r.out_shape, analysis.batch), "macs": r.macs, "macs_si": format_si(r.macs),
            "share_value": f"{share:.6f}", "share": f"{share:.1f}%", "params": r.params, "params_si": format_si(r.params),
            "formula": r.formula, "status": (statuses or {}).get(r.name.split("#", 1)[0], "exact" if statuses else ""),
        })
    return {
        "model": analysis.model, "description": analysis.description, "input": format_shape(analysis.input),
        "batch": analysis.batch, "mode": analysis.mode, "convention": analysis.convention,
        "macs": format_int(t.macs), "macs_si": format_si(t.macs), "params": format_int(t.params), "params_si": format_si(t.params),
        "biases": format_int(t.biases), "activations": format_int(t.activations), "activations_si": format_si(t.activations),
        "charts": charts, "rows": rows, "verification": summary,
    }


def render_report(analyses: Sequence[Any], verifications: Optional[List[Any]] = None,
                  profiles: Optional[List[Any]] = None) -> str:
    """The HTML text of a report on one or more analyses (comparison first when there are several);
    ``profiles``: per model, (profile table text, roofline SVG) when measured."""
    import jinja2

    from .. import __version__
    from .charts import compare_data, compare_figure, svg_text

    env = jinja2.Environment(loader=jinja2.PackageLoader("costlab", "templates"), autoescape=True)
    models = []
    for i, analysis in enumerate(analyses):
        v = verifications[i] if verifications else None
        statuses = {u.name: u.status for u in v.units} if v else None
        summary = f"{v.count('exact')} exact, {v.count('explained')} explained, {v.count('mismatch')} mismatch" if v else ""
        context = _model_context(analysis, statuses, summary)
        context["profile_text"], context["roofline_svg"] = profiles[i] if profiles else ("", "")
        models.append(context)
    comparison = []
    if len(analyses) > 1:
        for a, (model, macs, params, macs_ratio, params_ratio) in zip(analyses, compare_data(analyses)):
            comparison.append({"model": model, "input": format_shape(a.input), "macs": format_int(macs), "macs_si": format_si(macs),
                               "params": format_int(params), "params_si": format_si(params),
                               "macs_ratio": macs_ratio, "params_ratio": params_ratio})
    return env.get_template("report.html.j2").render(
        title=" vs ".join(a.model for a in analyses), version=__version__, models=models, comparison=comparison,
        comparison_svg=svg_text(compare_figure(analyses)) if len(analyses) > 1 else "",
    )
