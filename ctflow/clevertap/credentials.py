"""Account credentials; the passcode and the token are never shown in any repr, str or error
text."""

from __future__ import annotations

from dataclasses import dataclass, field

from ctflow.errors import CredentialsError

MASK = "***"


@dataclass(frozen=True, repr=False)
class Credentials:
    account_id: str
    passcode: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    """The account token (``X-CleverTap-Token``), which CleverTap asks for on
    ``/2/send/externaltrigger.json`` only (clevertap-api.md §1.2); ``None`` when not given."""

    def __post_init__(self) -> None:
        names = ("account_id", "passcode") + (("token",) if self.token is not None else ())
        for name in names:
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
        token = f", token={MASK!r}" if self.token is not None else ""
        return f"Credentials(account_id={self.account_id!r}, passcode={MASK!r}{token})"

    __str__ = __repr__
