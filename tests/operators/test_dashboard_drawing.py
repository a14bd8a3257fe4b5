"""What the dashboard draws: lags people can read, and charts whose texts stay whole and
inside the drawing whatever the language (issue 17: `0:00:00.191805`, "12: The enterprise
is ne", a clipped "FAILED", a stray number beside the legend)."""

import functools
import html
import itertools
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.utils import translation
from PIL import ImageFont

from registrations.admin import charts
from registrations.admin.labels import duration_text, remark_text
from registrations.domain.remarks import REMARKS


@functools.cache
def sans_serif() -> ImageFont.FreeTypeFont | None:
    """The font a browser here draws the charts' sans-serif with (fontconfig's choice)."""
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(["fc-match", "-f", "%{file}", "sans-serif"], capture_output=True, text=True, check=False)
    return ImageFont.truetype(found.stdout, 12) if found.returncode == 0 and found.stdout else None


def drawn_width(text: str) -> float:
    """The text's width at 12px in that font; without fontconfig, 7.5px a character."""
    font = sans_serif()
    return font.getlength(text) if font else 7.5 * len(text)


@pytest.mark.parametrize(
    ("lag", "english", "french"),
    [
        (timedelta(microseconds=191805), "192 ms", "192 ms"),
        (timedelta(seconds=4, milliseconds=240), "4.2 s", "4,2 s"),
        (timedelta(minutes=3, seconds=5), "3 min 05 s", "3 min 05 s"),
        (timedelta(hours=2, minutes=7, seconds=40), "2 h 07 min", "2 h 07 min"),
        (None, "—", "—"),
    ],
)
def test_a_lag_reads_in_milliseconds_seconds_or_minutes(lag, english, french):
    with translation.override("en"):
        assert duration_text(lag) == english
    with translation.override("fr"):
        assert duration_text(lag) == french


def texts(svg: str) -> list[tuple[float, str, str]]:
    """(x, text-anchor, text) of every <text> of a chart."""
    return [
        (float(x), anchor, text)
        for x, anchor, text in re.findall(
            r'<text x="([\d.]+)" y="[\d.]+" font-size="12" text-anchor="(\w+)"[^>]*>([^<]*)<', svg
        )
    ]


def width_of(svg: str) -> float:
    found = re.search(r'viewBox="0 0 (\d+) ', svg)
    assert found is not None
    return float(found.group(1))


def assert_inside(svg: str) -> None:
    width = width_of(svg)
    for x, anchor, text in texts(svg):
        extent = drawn_width(text)
        left, right = {"start": (x, x + extent), "end": (x - extent, x), "middle": (x - extent / 2, x + extent / 2)}[
            anchor
        ]
        assert left >= 0, text
        assert right <= width, text


@pytest.mark.parametrize("language", ["nl", "fr", "de", "en"])
def test_every_remark_label_is_drawn_whole_and_inside_the_chart(language):
    with translation.override(language):
        rows = [(remark_text(number), 10 * number) for number in sorted(REMARKS)]
        svg = charts.horizontal_bars("remarks", rows)
    svg = html.unescape(svg)
    drawn = " ".join(text for _, _, text in texts(svg))
    for label, _ in rows:
        assert label in drawn  # whole, if over several lines
        assert f"<title>{label}: " in svg
    assert_inside(svg)


def test_a_small_share_keeps_its_name_whole_and_inside_the_bar_chart():
    svg = charts.share_bar("share", [("remarks found", 970), ("valid", 30), ("waiting for validation", 3)])
    assert_inside(svg)
    drawn = [text for _, _, text in texts(svg)]
    assert "remarks found 97% (970)" in drawn
    assert "waiting for validation 0% (3)" in drawn


def test_long_series_names_wrap_the_legend_instead_of_overlapping():
    names = ["Anwesenheitsregistrierung Bau", "Fleischverarbeitende Betriebe", "Reinigungsunternehmen", "x" * 30]
    svg = charts.stacked_bars("per day", [f"{day:02d}/11" for day in range(1, 15)], [(n, [1] * 14) for n in names])
    assert_inside(svg)
    swatches = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="10" height="10"', svg)
    rows: dict[str, list[tuple[float, str]]] = {}
    for (x, y), name in zip(swatches, names, strict=True):
        rows.setdefault(y, []).append((float(x), name))
    assert len(rows) > 1  # wrapped onto a second line
    for row in rows.values():
        for (left, name), (right, _) in itertools.pairwise(row):
            assert right - left >= 15 + drawn_width(name)  # the next swatch is past the name


def test_the_value_axis_labels_its_grid_lines_and_nothing_else():
    svg = charts.stacked_bars("per day", ["01/11", "02/11"], [("construction", [3, 10]), ("meat", [1, 0])])
    numbers = [text for _, _, text in texts(svg) if text.isdigit()]
    assert numbers == ["0", "5", "10"]  # 0, half and the top, each beside its grid line
    assert svg.count("<line ") == 3
