"""The SOAP gateway's own bookkeeping (no registration data lives here)."""

from django.db import models


class SeenSignature(models.Model):
    """A WS-Security signature already accepted: the same message is refused if replayed."""

    digest = models.CharField(max_length=64, unique=True)  # security.replay_key: certificate + signature bytes
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "seen WS-Security signature"

    def __str__(self) -> str:
        return self.digest[:16]
