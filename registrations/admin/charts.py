"""Small server-side SVG charts for the dashboard: no script, nothing fetched by the browser.

Each function returns an inline <svg> (SafeString); every text is escaped by format_html.
Coordinates are formatted before they reach format_html (which escapes, hence stringifies,
its arguments). Texts are laid out from an estimate of their width (`_text_width`, generous
for the admin's sans-serif), so a long label in any language wraps or moves aside instead of
being cut at the edge of the drawing; each bar's <title> carries its full label and value.
"""

import textwrap
from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#417690", "#e0a526", "#5b9e4d", "#b5495b", "#7a6fb0", "#3a9ea5"]
_WIDTH = 640
_NARROW = 420  # the charts that share a row
_FONT = 12
_CHAR = 7.4  # px per character at _FONT: wide enough for DejaVu Sans capitals
_LINE = 16
_AXIS = 44  # left margin holding the value axis


def _n(value: float) -> str:
    return f"{value:.1f}"


def _text_width(text: str) -> float:
    return len(text) * _CHAR


def _svg(width: int, height: float, label: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>',
        label,
        width,
        _n(height),
        width,
        _n(height),
        body,
    )


def _join(parts: Sequence[SafeString]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 - every part comes from format_html


def _bar(x: float, y: float, width: float, height: float, colour: str, title: str) -> SafeString:
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        _n(x),
        _n(y),
        _n(width),
        _n(height),
        colour,
        title,
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", css: str = "") -> SafeString:
    return format_html(
        '<text x="{}" y="{}" font-size="{}" text-anchor="{}"{}>{}</text>',
        _n(x),
        _n(y),
        _FONT,
        anchor,
        format_html(' class="{}"', css) if css else "",
        text,
    )


def _legend(entries: Sequence[tuple[str, str]], top: float, width: float) -> tuple[SafeString, float]:
    """Swatch and text per (colour, text), placed left to right and wrapped onto a new line
    when the next one would not fit; returns the drawing and the height it takes."""
    parts: list[SafeString] = []
    x, y = 0.0, top
    for colour, text in entries:
        needed = 16 + _text_width(text) + 18
        if x > 0 and x + needed > width:
            x, y = 0.0, y + _LINE + 4
        parts.append(
            format_html('<rect x="{}" y="{}" width="10" height="10" fill="{}"></rect>', _n(x), _n(y + 2), colour)
        )
        parts.append(_text(x + 15, y + 11, text, css="legend"))
        x += needed
    return _join(parts), y + _LINE - top


def stacked_bars(label: str, columns: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> SafeString:
    """One bar per column, stacked by series (name, one value per column), on a value axis
    (0, half, top, with grid lines) and over a legend of the series."""
    totals = [sum(values[i] for _, values in series) for i in range(len(columns))]
    top = max(max(totals, default=0), 1)
    plot_top, plot_height = 8.0, 150.0
    baseline = plot_top + plot_height
    step = (_WIDTH - _AXIS - 4) / max(len(columns), 1)
    parts: list[SafeString] = [_axis(top, plot_top, plot_height)]
    for i, column in enumerate(columns):
        y = baseline
        for s, (name, values) in enumerate(series):
            height = plot_height * values[i] / top
            y -= height
            colour = PALETTE[s % len(PALETTE)]
            parts.append(_bar(_AXIS + i * step + 2, y, step - 4, height, colour, f"{column} {name}: {values[i]}"))
        parts.append(_text(_AXIS + (i + 0.5) * step, baseline + 14, column, anchor="middle"))
    legend, legend_height = _legend(
        [(PALETTE[s % len(PALETTE)], name) for s, (name, _) in enumerate(series)], baseline + 26, _WIDTH
    )
    parts.append(legend)
    return _svg(_WIDTH, baseline + 26 + legend_height + 4, label, _join(parts))


def _axis(top: int, plot_top: float, plot_height: float) -> SafeString:
    """Grid lines at 0, half and the top value, each labelled left of the plot."""
    ticks = sorted({0, top // 2, top}) if top > 1 else [0, top]
    parts = []
    for value in ticks:
        y = plot_top + plot_height * (1 - value / top)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc" stroke-width="1"></line>',
                _AXIS,
                _n(y),
                _WIDTH,
                _n(y),
            )
        )
        parts.append(_text(_AXIS - 6, y + 4, str(value), anchor="end", css="tick"))
    return _join(parts)


def share_bar(label: str, parts: Sequence[tuple[str, int]]) -> SafeString:
    """A 100% horizontal bar split into its parts, over a legend giving each part's name,
    share and count (a narrow part's text never sits on its own sliver of bar)."""
    total = sum(value for _, value in parts)
    x, body = 0.0, []
    for i, (name, value) in enumerate(parts):
        width = (_NARROW - 2) * value / (total or 1)
        body.append(_bar(x, 4, width, 28, PALETTE[i % len(PALETTE)], f"{name}: {value}"))
        x += width
    entries = [
        (PALETTE[i % len(PALETTE)], f"{name} {value / total:.0%} ({value})" if total else f"{name} —")
        for i, (name, value) in enumerate(parts)
    ]
    legend, legend_height = _legend(entries, 42, _NARROW)
    body.append(legend)
    return _svg(_NARROW, 42 + legend_height + 4, label, _join(body))


def horizontal_bars(label: str, rows: Sequence[tuple[str, int]]) -> SafeString:
    """One row per (label, value), in the order given: the whole label, wrapped over as many
    lines as it needs, then its bar and value."""
    top = max((value for _, value in rows), default=0) or 1
    per_line = int((_NARROW - 4) / _CHAR)
    body: list[SafeString] = []
    y = 0.0
    for name, value in rows:
        for line in textwrap.wrap(name, per_line, break_on_hyphens=False) or [""]:
            y += _LINE
            body.append(_text(0, y - 4, line, css="label"))
        width = (_NARROW - 60) * value / top
        body.append(_bar(0, y + 2, width, 14, PALETTE[0], f"{name}: {value}"))
        body.append(_text(width + 6, y + 14, str(value)))
        y += 26
    return _svg(_NARROW, max(y, 24.0), label, _join(body))
