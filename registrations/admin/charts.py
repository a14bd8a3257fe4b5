"""Small server-side SVG charts for the dashboard: no script, nothing fetched by the browser.

Each function returns an inline <svg> (SafeString); every text is escaped by format_html.
Coordinates are formatted before they reach format_html (which escapes, hence stringifies,
its arguments).
"""

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#417690", "#e0a526", "#5b9e4d", "#b5495b", "#7a6fb0", "#3a9ea5"]
_WIDTH, _HEIGHT, _PAD = 640, 220, 28
_NARROW = 420  # the charts that share a row


def _n(value: float) -> str:
    return f"{value:.1f}"


def _svg(width: int, height: int, label: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>',
        label,
        width,
        height,
        width,
        height,
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


def _legend(names: Sequence[str]) -> SafeString:
    return format_html_join(
        "",
        '<rect x="{}" y="4" width="10" height="10" fill="{}"></rect><text x="{}" y="13" font-size="12">{}</text>',
        ((_PAD + 130 * i + 40, PALETTE[i % len(PALETTE)], _PAD + 130 * i + 54, name) for i, name in enumerate(names)),
    )


def stacked_bars(label: str, columns: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> SafeString:
    """One bar per column, stacked by series (name, one value per column), with a legend."""
    totals = [sum(values[i] for _, values in series) for i in range(len(columns))]
    top = max(totals, default=0) or 1
    step = (_WIDTH - 2 * _PAD) / max(len(columns), 1)
    plot = _HEIGHT - 2 * _PAD
    parts: list[SafeString] = []
    for i, column in enumerate(columns):
        y = float(_HEIGHT - _PAD)
        for s, (name, values) in enumerate(series):
            height = plot * values[i] / top
            y -= height
            colour = PALETTE[s % len(PALETTE)]
            parts.append(_bar(_PAD + i * step + 2, y, step - 4, height, colour, f"{column} {name}: {values[i]}"))
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>',
                _n(_PAD + (i + 0.5) * step),
                _HEIGHT - _PAD + 12,
                column,
            )
        )
    parts.append(format_html('<text x="4" y="14" font-size="12">{}</text>', top))
    parts.append(_legend([name for name, _ in series]))
    return _svg(_WIDTH, _HEIGHT, label, _join(parts))


def share_bar(label: str, parts: Sequence[tuple[str, int]]) -> SafeString:
    """A 100% horizontal bar split into its parts, each labelled with its share."""
    total = sum(value for _, value in parts) or 1
    x, body = 0.0, []
    for i, (name, value) in enumerate(parts):
        width = (_NARROW - 2) * value / total
        body.append(_bar(x, 8, width, 28, PALETTE[i % len(PALETTE)], f"{name}: {value}"))
        body.append(
            format_html('<text x="{}" y="54" font-size="13">{} {}</text>', _n(x + 2), name, f"{value / total:.0%}")
        )
        x += width
    return _svg(_NARROW, 64, label, _join(body))


def horizontal_bars(label: str, rows: Sequence[tuple[str, int]]) -> SafeString:
    """One labelled bar per row, in the order given."""
    top = max((value for _, value in rows), default=0) or 1
    body: list[SafeString] = []
    for i, (name, value) in enumerate(rows):
        width = (_NARROW - 200) * value / top
        body.append(format_html('<text x="0" y="{}" font-size="12">{}</text>', 22 * i + 16, name))
        body.append(_bar(160, 22 * i + 5, width, 14, PALETTE[0], f"{name}: {value}"))
        body.append(format_html('<text x="{}" y="{}" font-size="12">{}</text>', _n(166 + width), 22 * i + 16, value))
    return _svg(_NARROW, 22 * max(len(rows), 1) + 8, label, _join(body))
