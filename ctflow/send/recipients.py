"""What a recipient must look like for the way a trigger addresses people (its ``recipient``):
an email address, a phone number as CleverTap stores one (E.164), or an id. No HTTP, no journal.
"""

from __future__ import annotations

import re
import unicodedata

KINDS = ("identity", "email", "phone", "object_id")
MAX_EMAIL = 254  # RFC 5321: a path of 256 octets, less the angle brackets
MAX_LOCAL_PART = 64
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164: '+', country code and number, 15 digits at most
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")


def problem(kind: str, recipient: object) -> str | None:
    """Why ``recipient`` cannot be sent to by a trigger whose ``recipient`` is ``kind``;
    None when it can."""
    if not isinstance(recipient, str) or not recipient.strip():
        return "a recipient must be non-empty text"
    if not printable(recipient):
        return "it has a control character or bytes that are not UTF-8"
    if kind == "email":
        reason = _email_problem(recipient)
        return f"not an email address ({reason})" if reason else None
    if kind == "phone":
        return _phone_problem(recipient)
    return None


def printable(recipient: object) -> bool:
    return isinstance(recipient, str) and not any(_unprintable(c) for c in recipient)


def shown(recipient: object) -> str:
    """``recipient`` quoted, with anything unprintable escaped, so it can always be printed."""
    return repr(recipient) if printable(recipient) else ascii(recipient)


def _unprintable(char: str) -> bool:
    """A control character, or a lone surrogate (a byte that was not UTF-8 in argv)."""
    return unicodedata.category(char) in ("Cc", "Cs")


def _email_problem(address: str) -> str | None:
    """A well-reasoned check, not RFC 5322: one ``@``, a local part, a domain with a dot,
    no spaces."""
    if any(c.isspace() for c in address):
        return "it has a space"
    if address.count("@") != 1:
        return "no '@'" if "@" not in address else "more than one '@'"
    local, domain = address.split("@")
    if not local:
        return "nothing before the '@'"
    if len(local) > MAX_LOCAL_PART:
        return f"{len(local)} characters before the '@'; at most {MAX_LOCAL_PART}"
    if len(address) > MAX_EMAIL:
        return f"{len(address)} characters; at most {MAX_EMAIL}"
    labels = domain.split(".")
    if len(labels) < 2:
        return f"the domain {domain!r} has no dot" if domain else "no domain after the '@'"
    if not all(labels):
        return f"the domain {domain!r} has an empty part"
    return None


def _phone_problem(number: str) -> str | None:
    if _PHONE.fullmatch(number):
        return None
    form = "'+', the country code and the number, digits only (e.g. +919876543210)"
    plain = _PHONE_PUNCTUATION.sub("", number)
    if plain != number and _PHONE.fullmatch(plain):
        return f"write the phone number as {plain} ({form})"
    if not number.startswith("+") and _PHONE.fullmatch("+" + plain):
        return f"a phone number needs '+' and its country code: {form}"
    return f"not a phone number in the form CleverTap takes: {form}"
