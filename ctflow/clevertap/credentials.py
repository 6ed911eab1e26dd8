"""Account credentials; the passcode is never shown in any repr, str or error text."""

from __future__ import annotations

from dataclasses import dataclass, field

from ctflow.errors import CredentialsError

MASK = "***"


@dataclass(frozen=True, repr=False)
class Credentials:
    account_id: str
    passcode: str = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("account_id", "passcode"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise CredentialsError(f"CleverTap {name} is empty")
            # Headers must be printable ASCII; say so without echoing the value.
            if not all(" " < ch < "\x7f" for ch in value):
                raise CredentialsError(
                    f"CleverTap {name} contains whitespace, control or non-ASCII characters"
                )

    def headers(self) -> dict[str, str]:
        """The authentication headers CleverTap expects on every call."""
        return {
            "X-CleverTap-Account-Id": self.account_id,
            "X-CleverTap-Passcode": self.passcode,
        }

    def __repr__(self) -> str:
        return f"Credentials(account_id={self.account_id!r}, passcode={MASK!r})"

    __str__ = __repr__
