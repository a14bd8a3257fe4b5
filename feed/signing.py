"""Webhook secrets and signatures (Standard Webhooks), and the secrets' encryption at rest.

A secret is `whsec_` + base64 of 32 random bytes, shown to the client once (when the
subscription is made or its secret rotated). The database keeps it encrypted (Fernet, with
a key derived from WEBHOOK_SECRETS_KEY), so a copy of the database does not let anyone sign
messages the receivers would trust. Signatures are made by the `standardwebhooks` library,
the one receivers verify with: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per
secret, separated by a space during a rotation's overlap.
"""

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
_KEY_CONTEXT = b"presence-registration webhook secrets v1"


class UnreadableSecretError(Exception):
    """A stored secret does not decrypt with the configured key (WEBHOOK_SECRETS_KEY changed)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_CONTEXT).derive(
        settings.WEBHOOK_SECRETS_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    """The secret as stored."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    """The secret a stored value holds; raises UnreadableSecretError."""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise UnreadableSecretError("the secret does not decrypt with WEBHOOK_SECRETS_KEY") from exc


def signature(*, secrets_in_use: Sequence[str], message_id: str, timestamp: datetime, body: str) -> str:
    """The `webhook-signature` header: one signature per secret, newest first."""
    return " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body) for secret in secrets_in_use
    )
