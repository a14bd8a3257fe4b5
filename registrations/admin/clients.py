"""The integrator clients' screens: registering a client, its mandates, and rotating or
revoking its certificate (SOAP) or public key (REST) through the client services."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from registrations.admin.guards import GuardedAdmin
from registrations.domain.vocabulary import ClientRole
from registrations.models import (
    Client,
    ClientMandate,
)
from registrations.services.clients import (
    ClientRegistrationError,
    certificate_fingerprint,
    check_clock_offset,
    check_public_key,
    check_rate_limit,
    client_register,
    client_revoke_certificate,
    client_revoke_public_key,
    client_rotate_certificate,
    client_rotate_public_key,
    client_set_clock_offset,
    client_update,
)


class ClientMandateInline(admin.TabularInline[ClientMandate, Client]):
    model = ClientMandate
    extra = 0


class ClientAdminForm(forms.ModelForm[Client]):
    """Checks the certificate, key and rate limit with the services' own checks."""

    class Meta:
        model = Client
        fields = [
            "name",
            "enterprise_number",
            "role",
            "certificate_pem",
            "public_key_pem",
            "is_active",
            "rate_limit",
            "clock_offset",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        checks = (
            ("certificate_pem", certificate_fingerprint),
            ("public_key_pem", check_public_key),
            ("rate_limit", check_rate_limit),
            ("clock_offset", check_clock_offset),
        )
        for name, check in checks:
            if data.get(name):
                try:
                    check(data[name])
                except ClientRegistrationError as exc:
                    self.add_error(name, str(exc))
        return data


class ClientKeysForm(forms.Form):
    certificate_pem = forms.CharField(label=_("new certificate (PEM)"), required=False, widget=forms.Textarea)
    revoke_certificate = forms.BooleanField(label=_("revoke the certificate"), required=False)
    public_key_pem = forms.CharField(label=_("new public key (PEM)"), required=False, widget=forms.Textarea)
    revoke_public_key = forms.BooleanField(label=_("revoke the public key"), required=False)


@admin.register(Client)
class ClientAdmin(GuardedAdmin[Client]):
    form = ClientAdminForm
    list_display = ("name", "id", "role", "enterprise_number", "is_active", "rate_limit", "last_used_at")
    list_filter = ("role", "is_active")
    search_fields = ("name", "=enterprise_number", "=id")
    inlines = [ClientMandateInline]

    def get_exclude(self, request: HttpRequest, obj: Client | None = None) -> tuple[str, ...]:
        # The clock offset exists in sandbox mode only (docs/sandbox.md).
        return () if settings.SANDBOX_MODE else ("clock_offset",)

    def get_readonly_fields(self, request: HttpRequest, obj: Client | None = None) -> tuple[str, ...]:
        always = ("id", "certificate_fingerprint", "created_at", "last_used_at")
        if obj is None:
            return always
        # Keys change only through the rotate/revoke screen (services keep the fingerprint).
        return (*always, "enterprise_number", "role", "certificate_pem", "public_key_pem", "keys_link")

    @admin.display(description=_("keys"))
    def keys_link(self, client: Client) -> SafeString:
        url = reverse("admin:registrations_client_keys", args=[client.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Rotate or revoke the certificate or key"))

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            client_update(client=obj, name=data["name"], is_active=data["is_active"], rate_limit=data["rate_limit"])
            self._set_clock_offset(obj, form)
            return
        created = client_register(
            name=data["name"],
            enterprise_number=data["enterprise_number"],
            role=ClientRole(data["role"]),
            certificate_pem=data.get("certificate_pem", ""),
            public_key_pem=data.get("public_key_pem", ""),
            rate_limit=data.get("rate_limit", ""),
        )
        # The inlines (mandates) were bound to `obj`: make it the saved client.
        obj.pk, obj.certificate_fingerprint = created.pk, created.certificate_fingerprint
        obj._state.adding, obj._state.db = False, created._state.db
        self._set_clock_offset(obj, form)

    def _set_clock_offset(self, client: Client, form: Any) -> None:
        if "clock_offset" in form.changed_data:
            client_set_clock_offset(client=client, offset=form.cleaned_data["clock_offset"])

    def get_urls(self) -> list[URLPattern]:
        keys = self.admin_site.admin_view(self.keys_view)
        return [path("<uuid:object_id>/keys/", keys, name="registrations_client_keys"), *super().get_urls()]

    def keys_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """Rotate or revoke the client's certificate (SOAP) or public key (REST)."""
        if not request.user.has_perm("registrations.manage_client_keys"):
            raise PermissionDenied
        client = get_object_or_404(Client, pk=object_id)
        form = ClientKeysForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                done = _apply_keys(client, form.cleaned_data)
            except ClientRegistrationError as exc:
                form.add_error(None, str(exc))
            else:
                self.log_change(request, client, "; ".join(done) or "keys unchanged")
                self.message_user(request, "; ".join(done) or _("Nothing changed."))
                return HttpResponseRedirect(reverse("admin:registrations_client_change", args=[client.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Keys of %(name)s") % {"name": client.name},
            "form": form,
            "client": client,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/registrations/client/keys.html", context)


def _apply_keys(client: Client, data: dict[str, Any]) -> list[str]:
    """Calls the rotate/revoke services the form asked for; returns what was done."""
    done = []
    if data["revoke_certificate"]:
        client_revoke_certificate(client=client)
        done.append("certificate revoked")
    elif data["certificate_pem"]:
        client_rotate_certificate(client=client, certificate_pem=data["certificate_pem"].strip() + "\n")
        done.append("certificate rotated")
    if data["revoke_public_key"]:
        client_revoke_public_key(client=client)
        done.append("public key revoked")
    elif data["public_key_pem"]:
        client_rotate_public_key(client=client, public_key_pem=data["public_key_pem"].strip() + "\n")
        done.append("public key rotated")
    return done
