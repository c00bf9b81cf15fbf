"""Inline SVG charts for HTML reports: real text, tooltips, accessible labels, fluid width.

Bars are horizontal (names never collide, however many there are); coordinates are percentages of
the chart's width, so text keeps its size on a phone and the bars use the whole page on a desktop.
Every bar is a focusable group with a ``<title>``, a tooltip text (``data-tip``) and what clicking it
filters the table by (``data-filter``). Numbers come from costlab's one formatter.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import List, Optional, Sequence, Tuple

from ..numbers import format_si

ROW = 22  # px per bar (a group of bars in a grouped chart)
MAX_BARS = 40  # past this many, the smallest are summed into one "other" bar
COLORS = ("#3b73c4", "#d9822b", "#2e9e6a", "#a452b8", "#c8453c", "#6b7a8f", "#b39b2b", "#3aa6b9")
LABEL = 34  # % of the width for names
BARS = 64  # % of the width for bars and their values (the rest is a margin)


@dataclass(frozen=True)
class Bar:
    """One bar: its name, value (>= 0), the text beside it, the tooltip lines and the table filter it sets."""

    name: str
    value: int
    text: str
    tip: str
    filter: str = ""
    kind: str = "block"  # what the filter matches: 'block' (a name prefix), 'op', or 'model' (a link)
    target: str = ""  # the table it filters when not the chart's own model ('m2')


def _a(text: str) -> str:
    return escape(text, quote=True)


def nothing(caption: str, reason: str) -> str:
    """A figure that says why there is nothing to chart (instead of empty or negative axes)."""
    return f'<figure class="chart empty"><figcaption>{_a(caption)}</figcaption><p class="nothing">Nothing to chart: {_a(reason)}</p></figure>'


def aggregate(bars: List[Bar], limit: int = MAX_BARS, what: str = "blocks") -> List[Bar]:
    """At most ``limit`` bars: the largest ``limit - 1`` in their order, then one bar summing the rest."""
    if len(bars) <= limit:
        return bars
    keep = set(sorted(range(len(bars)), key=lambda i: -bars[i].value)[: limit - 1])
    rest = [b for i, b in enumerate(bars) if i not in keep]
    total = sum(b.value for b in rest)
    other = Bar(f"other ({len(rest)} {what})", total, format_si(total, True), f"{len(rest)} smaller {what}: {format_si(total, True)}")
    return [b for i, b in enumerate(bars) if i in keep] + [other]


def _bar(b: Bar, y: int, frac: float, color: str, height: int) -> str:
    inside = frac > 0.55
    text_x = f"{frac * 100:.3f}%"
    attrs = f'class="bar" tabindex="0" role="button" data-tip="{_a(b.tip)}"'
    if b.filter:
        attrs += f' data-filter="{_a(b.filter)}" data-kind="{b.kind}"' + (f' data-target="{b.target}"' if b.target else "")
    label = f"{b.name}: {b.text}"
    return (
        f'<g {attrs} aria-label="{_a(label)}"><title>{_a(b.tip)}</title>'
        f'<rect x="0" y="{y}" width="{max(frac, 0.002) * 100:.3f}%" height="{height}" rx="2" fill="{color}"/>'
        f'<text x="{text_x}" y="{y + height / 2 + 4.5:g}" dx="{-4 if inside else 4}" class="{"in" if inside else "out"}"'
        f' text-anchor="{"end" if inside else "start"}">{_a(b.text)}</text></g>'
    )


def bar_chart(bars: Sequence[Bar], caption: str, chart_id: str, color: str = COLORS[0], empty: str = "every value is 0") -> str:
    """Horizontal bars with names on the left and values beside them, in a captioned figure
    (``empty``: what to say instead when there is nothing to draw)."""
    if not bars or not any(b.value for b in bars):
        return nothing(caption, empty)
    top = max(b.value for b in bars)
    height = ROW * len(bars) + 6
    parts = [f'<svg class="bars" id="{_a(chart_id)}" width="100%" height="{height}" role="img" aria-label="{_a(caption)}"'
             f' xmlns="http://www.w3.org/2000/svg" font-size="13" fill="currentColor">',
             f'<title>{_a(caption)}</title><svg x="0" width="{LABEL - 1}%" height="{height}">']
    for i, b in enumerate(bars):
        parts.append(f'<text x="0" y="{ROW * i + 16}">{_a(b.name)}</text>')
    parts.append(f'</svg><svg x="{LABEL}%" width="{BARS}%" height="{height}" overflow="visible">')
    for i, b in enumerate(bars):
        parts.append(_bar(b, ROW * i + 3, b.value / top, color, ROW - 6))
    parts.append("</svg></svg>")
    return _figure("".join(parts), caption, chart_id)


def grouped_chart(groups: Sequence[Tuple[str, Sequence[Optional[Bar]]]], series: Sequence[str], caption: str, chart_id: str) -> str:
    """Per group (a block), one bar per series (a model) that has it, colour by series, on one scale."""
    values = [b.value for _, bars in groups for b in bars if b is not None]
    if not values or not any(values):
        return nothing(caption, "no block has MACs in any model")
    top = max(values)
    tops, y = [], 0
    for _, bars in groups:
        tops.append(y)
        y += ROW * sum(b is not None for b in bars) + 8
    height = y + 4
    legend = "".join(f'<span class="key"><i style="background:{COLORS[i % len(COLORS)]}"></i>{_a(s)}</span>' for i, s in enumerate(series))
    parts = [f'<svg class="bars grouped" id="{_a(chart_id)}" width="100%" height="{height}" role="img" aria-label="{_a(caption)}"'
             f' xmlns="http://www.w3.org/2000/svg" font-size="13" fill="currentColor">',
             f'<title>{_a(caption)}</title><svg x="0" width="{LABEL - 1}%" height="{height}">']
    for (name, _), y0 in zip(groups, tops):
        parts.append(f'<text x="0" y="{y0 + 18}">{_a(name)}</text>')
    parts.append(f'</svg><svg x="{LABEL}%" width="{BARS}%" height="{height}" overflow="visible">')
    for (_, bars), y0 in zip(groups, tops):
        present = [(i, b) for i, b in enumerate(bars) if b is not None]
        for k, (i, b) in enumerate(present):
            parts.append(_bar(b, y0 + 4 + ROW * k, b.value / top, COLORS[i % len(COLORS)], ROW - 4))
        y1 = y0 + ROW * len(present) + 8
        parts.append(f'<line x1="0" x2="100%" y1="{y1}" y2="{y1}" class="sep"/>')
    parts.append("</svg></svg>")
    return _figure("".join(parts), caption, chart_id, f'<p class="legend">{legend}</p>')


def nice_ticks(top: int, most: int = 5) -> List[int]:
    """Round tick values from 0 up to ``top`` (steps of 1, 2, 2.5 or 5 x 10^k): nice_ticks(1_582_671_872) ==
    [0, 500M, 1G, 1.5G]."""
    raw = max(top / (most - 1), 1)
    power = 10 ** (len(str(int(raw))) - 1)
    step = next(int(m * power) for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return list(range(0, top + 1, max(step, 1)))


def step_chart(points: Sequence[Tuple[str, int]], caption: str, chart_id: str, unit: str = "MACs") -> str:
    """Cumulative value along the network (x: layer position, y: running total) with K/M/G ticks;
    a hover target on every layer that adds to the total (up to 400)."""
    costly = [i for i in range(len(points)) if points[i][1] != (points[i - 1][1] if i else 0)]
    if len(costly) < 2:
        return nothing(caption, f"fewer than two layers add {unit}")
    n, top = len(points), points[-1][1]
    scale = 1000 / top  # y in 0..1000: browsers draw in single precision, 1.5e9 would not render
    coords = ["0,0"]
    previous = 0.0
    for i, (_, value) in enumerate(points):
        y = value * scale
        coords.append(f"{i},{previous:.2f} {i},{y:.2f}")
        previous = y
    coords.append(f"{n},{previous:.2f}")
    parts = [f'<svg class="steps" id="{_a(chart_id)}" width="100%" height="240" role="img" aria-label="{_a(caption)}"'
             f' xmlns="http://www.w3.org/2000/svg" font-size="13" fill="currentColor"><title>{_a(caption)}</title>']
    for tick in nice_ticks(top):
        y = 210 - 200 * tick / top
        parts.append(f'<text x="11%" dx="-6" y="{y + 4:.1f}" text-anchor="end">{_a(format_si(tick))}</text>'
                     f'<line x1="11%" x2="99%" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
    parts.append(f'<text x="11%" y="234">layer 1</text><text x="99%" y="234" text-anchor="end">layer {n} (network order)</text>')
    parts.append(f'<svg x="11%" y="10" width="88%" height="200" viewBox="0 0 {n} 1000" preserveAspectRatio="none">'
                 f'<g transform="translate(0 1000) scale(1 -1)"><polyline points="{" ".join(coords)}" fill="none" stroke="{COLORS[0]}"'
                 f' stroke-width="2" vector-effect="non-scaling-stroke"/>')
    if len(costly) <= 400:
        for i in costly:
            name, value = points[i]
            added = value - (points[i - 1][1] if i else 0)
            tip = f"{name}\n+{format_si(added, True)} {unit}, {format_si(value, True)} so far ({100 * value / top:.1f}%)"
            parts.append(f'<rect class="bar hit" x="{i}" y="0" width="1" height="1000" data-tip="{_a(tip)}" data-filter="{_a(name)}"'
                         f' data-kind="block" aria-label="{_a(tip)}"><title>{_a(tip)}</title></rect>')
    parts.append("</g></svg></svg>")
    return _figure("".join(parts), caption, chart_id)


def _figure(svg: str, caption: str, chart_id: str, extra: str = "") -> str:
    return (f'<figure class="chart" data-chart="{_a(chart_id)}">{svg}{extra}<figcaption>{_a(caption)}'
            f' <span class="chart-export"><button type="button" data-export="svg">SVG</button>'
            f'<button type="button" data-export="png">PNG</button></span></figcaption></figure>')
