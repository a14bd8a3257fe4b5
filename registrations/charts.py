"""Small server-side SVG charts for the dashboard: no script, nothing fetched by the browser.

Each function returns an inline <svg> (SafeString); every text is escaped by format_html.
"""

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#417690", "#e0a526", "#5b9e4d", "#b5495b", "#7a6fb0", "#3a9ea5"]
_WIDTH, _HEIGHT, _PAD = 640, 220, 28


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
            h = plot * values[i] / top
            y -= h
            parts.append(
                format_html(
                    '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
                    "<title>{} {}: {}</title></rect>",
                    _PAD + i * step + 2,
                    y,
                    step - 4,
                    h,
                    PALETTE[s % len(PALETTE)],
                    column,
                    name,
                    values[i],
                )
            )
        parts.append(
            format_html(
                '<text x="{:.1f}" y="{}" font-size="9" text-anchor="middle">{}</text>',
                _PAD + (i + 0.5) * step,
                _HEIGHT - _PAD + 12,
                column,
            )
        )
    parts.append(format_html('<text x="4" y="14" font-size="10">{}</text>', top))
    legend = format_html_join(
        "",
        '<rect x="{}" y="4" width="10" height="10" fill="{}"></rect><text x="{}" y="13" font-size="10">{}</text>',
        (
            (_PAD + 120 * s + 40, PALETTE[s % len(PALETTE)], _PAD + 120 * s + 54, name)
            for s, (name, _) in enumerate(series)
        ),
    )
    return _svg(_WIDTH, _HEIGHT, label, mark_safe("".join([*parts, legend])))  # noqa: S308 - parts are escaped


def share_bar(label: str, parts: Sequence[tuple[str, int]]) -> SafeString:
    """A 100% horizontal bar split into its parts, each labelled with its share."""
    total = sum(value for _, value in parts) or 1
    x, body = 0.0, []
    for i, (name, value) in enumerate(parts):
        width = (_WIDTH - 2) * value / total
        body.append(
            format_html(
                '<rect x="{:.1f}" y="8" width="{:.1f}" height="28" fill="{}"><title>{}: {}</title></rect>'
                '<text x="{:.1f}" y="54" font-size="11">{} {:.0%}</text>',
                x,
                width,
                PALETTE[i % len(PALETTE)],
                name,
                value,
                x + 2,
                name,
                value / total,
            )
        )
        x += width
    return _svg(_WIDTH, 64, label, mark_safe("".join(body)))  # noqa: S308 - parts are escaped


def horizontal_bars(label: str, rows: Sequence[tuple[str, int]]) -> SafeString:
    """One labelled bar per row, longest first as given."""
    top = max((value for _, value in rows), default=0) or 1
    height = 22 * max(len(rows), 1) + 8
    body = format_html_join(
        "",
        '<text x="0" y="{}" font-size="11">{}</text><rect x="160" y="{}" width="{:.1f}" height="14" fill="{}">'
        '</rect><text x="{:.1f}" y="{}" font-size="11">{}</text>',
        (
            (
                22 * i + 16,
                name,
                22 * i + 5,
                (_WIDTH - 220) * value / top,
                PALETTE[0],
                166 + (_WIDTH - 220) * value / top,
                22 * i + 16,
                value,
            )
            for i, (name, value) in enumerate(rows)
        ),
    )
    return _svg(_WIDTH, height, label, body)
