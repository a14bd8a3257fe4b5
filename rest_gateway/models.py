"""What the token endpoint stores: issued access tokens (hashed) and used assertion ids."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessToken(models.Model):
    """An opaque Bearer token. Only its SHA-256 is stored: a database leak yields no token."""

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey("registrations.Client", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked = models.BooleanField(default=False)
    # The client's token_generation at issue: a token is valid only while they are equal.
    client_generation = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("access token")

    def __str__(self) -> str:
        return f"access token of {self.client_id}"


class UsedClientAssertion(models.Model):
    """The `jti` of every accepted client assertion, until it expires: a replay hits the
    unique constraint, in every process and on every database (the replay cache)."""

    client = models.ForeignKey("registrations.Client", on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("used client assertion")
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="assertion_jti_unique")]

    def __str__(self) -> str:
        return f"assertion {self.jti} of {self.client_id}"
