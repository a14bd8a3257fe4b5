from django import forms
from django.core.exceptions import ValidationError

from registrations.services.sandbox import NAME_MAX_LENGTH

PEM_MAX_BYTES = 16 * 1024  # a certificate chain is a few kB


class SignupForm(forms.Form):
    name = forms.CharField(label="Your software or company", max_length=NAME_MAX_LENGTH)
    pem = forms.CharField(
        label="Certificate or public key (PEM)",
        required=False,
        max_length=PEM_MAX_BYTES,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 70}),
        help_text="A certificate (BEGIN CERTIFICATE) signs your SOAP calls and, with its key, your REST "
        "token requests; a public key (BEGIN PUBLIC KEY) your REST token requests only.",
    )
    pem_file = forms.FileField(label="or upload it", required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        upload = data.get("pem_file")
        if bool(data.get("pem")) == bool(upload):
            raise ValidationError("Paste the PEM or upload it (one of the two).")
        if upload:
            if upload.size > PEM_MAX_BYTES:
                raise ValidationError(f"The file is larger than {PEM_MAX_BYTES} bytes: a PEM is a few kB.")
            try:
                data["pem"] = upload.read().decode("ascii")
            except UnicodeDecodeError:
                raise ValidationError("The file is not a PEM (text) file.") from None
        return data
