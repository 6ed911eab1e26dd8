"""What must never be shown: known secret values (passcodes, template variables named like
secrets) masked in any text, and the values at paths named like credentials masked in create
bodies. Imports nothing else of ctflow, so every layer may use it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

SENSITIVE = "(sensitive)"
"""What a masked value of a create body reads as."""
SENSITIVE_WORDS = (
    "password",
    "passcode",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "auth_key",
    "private_key",
)


def mask(text: str, secrets: Collection[str]) -> str:
    """``text`` with every secret of 4 characters or more replaced by ``***``, longest first
    (so a secret containing another is masked whole)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def is_sensitive(path: str) -> bool:
    """A value not to show: some segment of its dotted path (or name) names a credential."""
    return any(word in segment.lower() for segment in path.split(".") for word in SENSITIVE_WORDS)


def masked(body: Any, prefix: str = "") -> Any:
    """``body`` with the value at every sensitive path replaced by ``SENSITIVE`` (what the
    journal keeps of a create body)."""
    if isinstance(body, Mapping):
        out = {}
        for key, value in body.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out[key] = SENSITIVE if is_sensitive(path) else masked(value, path)
        return out
    return body
