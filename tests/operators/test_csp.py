"""Content-Security-Policy: every page carries it, and the pages operators and integrators
open in a browser (admin, dashboard, Swagger UI) work under it with no violation."""

import pytest

from tests.operators.test_dashboard import CHROMIUM, chromium, console_errors

DOC = "/REST/presenceRegistration/v1/doc"


def violations(stderr: str) -> list[str]:
    """Policy violations and script errors (Chromium's accessibility hints are not errors)."""
    return [line for line in console_errors(stderr) if "Content Security Policy" in line or "Uncaught" in line]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", DOC, "/REST/presenceRegistration/v1/openapi.json"])
def test_every_page_forbids_inline_scripts_and_foreign_sources(client, path):
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.django_db
def test_swagger_ui_takes_its_init_script_from_its_own_url(client):
    page = client.get(DOC).content.decode()
    assert "<script>" not in page  # nothing inline: the init script is a separate file
    script = client.get(DOC, {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_swagger_ui_renders_the_api_in_a_real_browser_without_a_policy_violation(live_server, tmp_path):
    # The virtual time budget lets the page fetch its script and the schema before the dump.
    dom = chromium(f"{live_server.url}{DOC}", tmp_path / "profile", "--dump-dom", "--virtual-time-budget=15000")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "presenceRegistrations" in dom.stdout  # the operations are listed: the UI ran
    assert 'class="opblock' in dom.stdout
    assert violations(dom.stderr) == []


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/dashboard/",
        "/admin/auth/user/add/",
        "/admin/registrations/registration/?status__exact=failed",
        "/admin/password_change/",
    ],
)
def test_admin_pages_render_in_a_real_browser_without_a_policy_violation(
    live_server, settings, tmp_path, django_user_model, path
):
    settings.ROOT_URLCONF = "tests.operators.browser_urls"
    django_user_model.objects.create_superuser(username="root", password="a long pass phrase")
    url = f"{live_server.url}/__browser_login__/root/?next={path}"
    dom = chromium(url, tmp_path / "profile", "--dump-dom", "--virtual-time-budget=5000")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'id="content"' in dom.stdout
    assert violations(dom.stderr) == []


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_the_admin_login_page_renders_without_a_policy_violation(live_server, tmp_path):
    dom = chromium(f"{live_server.url}/admin/login/", tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'name="password"' in dom.stdout
    assert violations(dom.stderr) == []
