"""The sandbox's self-service page (docs/sandbox.md): a vendor pastes or uploads its certificate
or public key and gets a client of a demo enterprise, with what it can send. Sandbox mode only
(404 otherwise), CSRF-protected, sign-ups rate-limited per address."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from registrations.services.sandbox import SandboxSignup, SandboxSignupError, sandbox_client_register
from sandbox.forms import SignupForm
from sandbox.throttling import signup_wait_seconds


def sandbox_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Outside sandbox mode the page does not exist: 404, as for any unknown URL."""

    @wraps(view)
    def only_in_sandbox_mode(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX_MODE:
            raise Http404
        return view(request, *args, **kwargs)

    return only_in_sandbox_mode


@sandbox_only
@require_http_methods(["GET", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        wait = signup_wait_seconds(address=request.META.get("REMOTE_ADDR", ""))
        if wait is not None:
            response = render(request, "sandbox/signup.html", {"form": form, "wait": wait}, status=429)
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            try:
                signup = sandbox_client_register(name=form.cleaned_data["name"], pem=form.cleaned_data["pem"])
            except SandboxSignupError as exc:
                form.add_error(None, str(exc))
            else:
                return render(request, "sandbox/signed_up.html", _signed_up_context(request, signup), status=201)
    return render(request, "sandbox/signup.html", {"form": form}, status=400 if form.errors else 200)


def _signed_up_context(request: HttpRequest, signup: SandboxSignup) -> dict[str, Any]:
    return {
        "client": signup.client,
        "soap": settings.SOAP_PUBLIC_URL or request.build_absolute_uri("/PresenceRegistration/v1"),
        "token_url": request.build_absolute_uri(reverse("oauth-token")),
        "swagger": request.build_absolute_uri(reverse("rest-doc")),
        "request_logs": request.build_absolute_uri(reverse("rest-request-logs")),
        "clean": [
            {
                "key": combination.key,
                "title": combination.title,
                "steps": [
                    {
                        "channel": step.channel,
                        "item": json.dumps(step.item),
                        "expect": json.dumps(step.expect.as_json()),
                    }
                    for step in combination.steps
                ],
            }
            for combination in signup.sheet.clean
        ],
    }
