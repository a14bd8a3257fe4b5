"""The dashboard: its figures, who may see it, and a real headless Chromium rendering it.

The browser test runs wherever Debian's chromium is installed (.ci/run installs it) and is
skipped only where it is missing. Its screenshots go to var/screenshots/, and to docs/img/
for docs/operators.md when DOCS_SCREENSHOTS=1.
"""

import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from PIL import Image

from registrations.admin.dashboard import dashboard_figures
from registrations.models import Registration, Sector, Status
from tests.operators.conftest import logged_in, make_registration

CHROMIUM = shutil.which("chromium")
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
DOCS_IMG = Path(django_settings.BASE_DIR) / "docs" / "img"


def busy_fortnight() -> None:
    """Registrations over the last days in three sectors, some failed, two still waiting."""
    today = timezone.localdate()
    for offset in range(0, 14, 2):
        day = today - timedelta(days=offset)
        for sector, count in ((Sector.CONSTRUCTION, 3 + offset % 5), (Sector.MEAT, 2), (Sector.CLEANING, 1)):
            for n in range(count):
                failed = n % 3 == 0
                make_registration(
                    registration_date=day,
                    sector=sector,
                    status=Status.FAILED if failed else Status.VALIDATED,
                    remark_mask=(0b1 | (0b100 if n % 2 else 0)) if failed else 0,
                )
    make_registration(status=Status.REGISTERED)
    make_registration(status=Status.REGISTERED)


@pytest.mark.django_db
def test_the_figures_follow_the_registrations():
    busy_fortnight()
    figures = dashboard_figures()
    assert figures.queue_depth == 2
    assert figures.oldest_waiting is not None
    today = timezone.localdate()
    assert figures.per_day_and_sector[today][Sector.MEAT] == 2
    assert figures.remarks[0][0] == 1  # remark 1 on every failed registration
    assert 0 < figures.validated_share < 1
    assert figures.lag_p50 is not None
    assert figures.lag_p99 >= figures.lag_p50


@pytest.mark.django_db
def test_the_dashboard_is_linked_from_the_admin_home_for_those_who_may_see_it(viewer):
    http = logged_in(viewer)
    assert b'href="/admin/dashboard/"' in http.get("/admin/").content
    page = http.get("/admin/dashboard/")
    assert page.status_code == 200
    assert page.content.count(b'<svg class="chart"') == 3


@pytest.mark.django_db
def test_staff_without_the_permission_do_not_see_the_dashboard(django_user_model):
    outsider = django_user_model.objects.create_user(username="o", password="pw", is_staff=True)
    assert logged_in(outsider).get("/admin/dashboard/").status_code == 403


def chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM or "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            "--window-size=1280,900",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def screenshot(
    live_server, profile: Path, username: str, path: str, name: str, *, language: str = "", size: str = ""
) -> Path:
    """`path` as `username` sees it, in `language` if given (the language cookie), in a
    window of `size` ("1280,1500") if given."""
    target = SCREENSHOTS / name
    target.parent.mkdir(parents=True, exist_ok=True)
    door = f"{live_server.url}/__browser_login__/{username}/?{urlencode({'next': path, 'lang': language})}"
    window = [f"--window-size={size}"] if size else []
    run = chromium(door, profile, *window, f"--screenshot={target}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_errors(run.stderr) == []
    if os.environ.get("DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        # 256 colours are plenty for a screen of text and flat colours, at a third of the size.
        with Image.open(target) as image:
            flat = image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            flat.save(DOCS_IMG / name, optimize=True)
    return target


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_the_dashboard_renders_its_charts_in_a_real_browser(live_server, settings, tmp_path, viewer, corrector):
    settings.ROOT_URLCONF = "tests.operators.browser_urls"
    busy_fortnight()
    profile = tmp_path / "profile"
    dom = chromium(f"{live_server.url}/__browser_login__/vera/?next=/admin/dashboard/", profile, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('<svg class="chart"') == 3
    assert "<rect" in dom.stdout
    assert 'id="queue-depth">2<' in dom.stdout
    assert console_errors(dom.stderr) == []

    with Image.open(screenshot(live_server, profile, "vera", "/admin/dashboard/", "dashboard.png")) as image:
        assert image.size == (1280, 900)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20  # not a blank page
    changelist = "/admin/registrations/registration/?status__exact=failed"
    screenshot(live_server, tmp_path / "p2", "cor", changelist, "registrations.png")
    failed = Registration.objects.filter(status=Status.FAILED).order_by("id").first()
    change = f"/admin/registrations/registration/{failed.pk}/change/"
    screenshot(live_server, tmp_path / "p3", "cor", change, "registration.png")
