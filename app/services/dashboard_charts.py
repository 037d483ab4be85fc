"""Chart geometry for the dashboard's server-made SVG: horizontal bars (one
row per category, one bar per series) and columns (one group per month).

Everything is computed here as plain shapes — rectangles, lines and texts
in the chart's own coordinates — and `svg()` writes them out as markup,
escaping every text (a template macro did the same ten times slower).
Colours and fonts come from classes in static/css/dashboard.css: the
Content-Security-Policy forbids inline styles, and SVG presentation
attributes are all the shapes need.
"""

import math
import unicodedata
from dataclasses import dataclass, field

from markupsafe import Markup, escape

WIDTH = 480  # chart units; the page scales the SVG to its card (text stays legible on a phone)
FONT = 14  # px in chart units; labels are measured with it
LEGEND_HEIGHT = 30
MAX_LABEL_WIDTH = 150  # longer row labels are cut with an ellipsis (the table has them in full)


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str  # the bar's label and value, as a tooltip


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"  # start, middle or end
    css: str = "label"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    css: str = "grid"


@dataclass
class Chart:
    """An SVG chart: its size, shapes and legend; `series` names the series in order."""

    width: int
    height: int
    series: list[str]
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[float, float, int, str]] = field(default_factory=list)  # x, y, series, name

    @property
    def empty(self) -> bool:
        return not self.rects


def text_width(text: str, size: float = FONT) -> float:
    """Roughly how wide `text` is drawn: wide (CJK) characters one em, others about half."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.56 for ch in text)


def fit(text: str, width: float, size: float = FONT) -> str:
    """`text`, cut with an ellipsis to fit `width`."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_scale(top: float, whole: bool = True, steps: int = 4) -> tuple[float, float]:
    """A round axis maximum ≥ `top` and its tick step (1, 2, 2.5 or 5 × 10ⁿ;
    at least 1 when the values are `whole` numbers)."""
    if top <= 0:
        return float(steps), 1.0
    raw = top / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    if whole:
        step = max(math.ceil(step), 1)
    return step * math.ceil(top / step - 1e-9), float(step)


def number(value: float) -> str:
    """A value as a label: whole numbers plainly, others to one decimal."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _legend(chart: Chart) -> None:
    if len(chart.series) < 2:
        return
    x = 0.0
    for index, name in enumerate(chart.series):
        chart.legend.append((x, 8, index, name))
        x += 22 + text_width(name) + 24


def bar_chart(
    labels: list[str], series: list[str], values: list[list[float | None]], whole: bool = True
) -> Chart:
    """Horizontal bars: row i is labels[i], with one bar per series (values[i][s]; None draws none)."""
    label_width = min(max((text_width(label) for label in labels), default=0) + 4, MAX_LABEL_WIDTH)
    label_width, value_room = max(label_width, 40), 52
    plot_left, plot_width = label_width + 10, WIDTH - label_width - 10 - value_room
    bar = 22 if len(series) == 1 else 15
    row_height = bar * len(series) + 14
    top = LEGEND_HEIGHT if len(series) > 1 else 4
    height = int(top + row_height * len(labels) + 26)
    chart = Chart(WIDTH, height, series)
    _legend(chart)
    maximum, step = nice_scale(max((v for row in values for v in row if v is not None), default=0), whole)
    scale = plot_width / maximum
    bottom = top + row_height * len(labels)
    tick = 0.0
    while tick <= maximum + 1e-9:
        x = plot_left + tick * scale
        chart.lines.append(Line(x, top, x, bottom))
        chart.texts.append(Text(x, bottom + 18, number(tick), "middle", "axis"))
        tick += step
    for i, label in enumerate(labels):
        y = top + i * row_height + 7
        chart.texts.append(Text(label_width, y + bar * len(series) / 2 + 5, fit(label, label_width), "end"))
        for s, value in enumerate(values[i]):
            if value is None:
                continue
            width = max(value * scale, 1.5 if value else 0)
            chart.rects.append(
                Rect(plot_left, y + s * bar, width, bar - 3, s, f"{label} · {series[s]}: {number(value)}")
            )
            chart.texts.append(
                Text(plot_left + width + 5, y + s * bar + bar - 7, number(value), "start", "value")
            )
    chart.lines.append(Line(plot_left, top, plot_left, bottom, "axis-line"))
    return chart


def column_chart(
    labels: list[str], series: list[str], values: list[list[float]], whole: bool = True
) -> Chart:
    """Columns: group i is labels[i] (a month), with one column per series (values[i][s])."""
    height, axis_width, bottom_room = 260, 46, 30
    top = LEGEND_HEIGHT + 8 if len(series) > 1 else 12
    plot_left, plot_width = axis_width, WIDTH - axis_width - 8
    bottom = height - bottom_room
    chart = Chart(WIDTH, height, series)
    _legend(chart)
    maximum, step = nice_scale(max((v for row in values for v in row), default=0), whole)
    scale = (bottom - top - 16) / maximum
    tick = 0.0
    while tick <= maximum + 1e-9:
        y = bottom - tick * scale
        chart.lines.append(Line(plot_left, y, WIDTH, y))
        chart.texts.append(Text(plot_left - 6, y + 5, number(tick), "end", "axis"))
        tick += step
    groups = max(len(labels), 1)
    group_width = plot_width / groups
    bar = group_width * 0.72 / len(series)
    every = math.ceil(groups / 12)  # at most twelve month labels
    show_values = groups * len(series) <= 24
    for i, label in enumerate(labels):
        left = plot_left + i * group_width + group_width * 0.14
        if i % every == 0:
            chart.texts.append(Text(left + bar * len(series) / 2, bottom + 20, label, "middle", "axis"))
        for s, value in enumerate(values[i]):
            h = value * scale
            x = left + s * bar
            chart.rects.append(Rect(x, bottom - h, bar - 2, h, s, f"{label} · {series[s]}: {number(value)}"))
            if show_values and value:
                chart.texts.append(Text(x + (bar - 2) / 2, bottom - h - 5, number(value), "middle", "value"))
    chart.lines.append(Line(plot_left, bottom, WIDTH, bottom, "axis-line"))
    return chart


def _u(value: float) -> str:
    """A coordinate: one decimal at most."""
    return f"{value:.1f}".removesuffix(".0")


def svg(chart: Chart, element_id: str, title: str, desc: str) -> Markup:
    """The chart as an inline <svg role="img"> named by its <title> and <desc>."""
    ident = escape(element_id)
    out = [
        f'<svg class="chart" viewBox="0 0 {chart.width} {chart.height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" focusable="false">',
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>',
    ]
    out += [
        f'<line x1="{_u(line.x1)}" y1="{_u(line.y1)}" x2="{_u(line.x2)}" y2="{_u(line.y2)}" class="{line.css}"/>'
        for line in chart.lines
    ]
    out += [
        f'<rect x="{_u(r.x)}" y="{_u(r.y)}" width="{_u(r.width)}" height="{_u(r.height)}" rx="2" '
        f'class="series-{r.series}"><title>{escape(r.title)}</title></rect>'
        for r in chart.rects
    ]
    out += [
        f'<text x="{_u(t.x)}" y="{_u(t.y)}" text-anchor="{t.anchor}" class="{t.css}">{escape(t.text)}</text>'
        for t in chart.texts
    ]
    for x, y, series, name in chart.legend:
        out.append(f'<rect x="{_u(x)}" y="{_u(y)}" width="14" height="14" rx="2" class="series-{series}"/>')
        out.append(f'<text x="{_u(x + 20)}" y="{_u(y + 12)}" class="legend">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
