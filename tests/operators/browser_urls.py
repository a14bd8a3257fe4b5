"""The project's URLs plus a log-in door for the headless browser (tests only).

Chromium's command line cannot fill in the login form with its CSRF token; this view logs
the named staff user in and redirects, like `Client.force_login` does for the test client.
With `?lang=xx` it also sets the language cookie the console's language switch sets (the
switch itself, a POST form, is tested with the test client).
"""

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme

from config.urls import urlpatterns as project_urlpatterns


def browser_login(request: HttpRequest, username: str) -> HttpResponseRedirect:
    login(request, User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend")
    target = request.GET.get("next", "/admin/")
    response = HttpResponseRedirect(target if url_has_allowed_host_and_scheme(target, None) else "/admin/")
    if language := request.GET.get("lang", ""):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language)
    return response


urlpatterns = [path("__browser_login__/<str:username>/", browser_login), *project_urlpatterns]
