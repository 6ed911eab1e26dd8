"""``ctflow profile get`` (``/1/profile.json``, §8.3) and ``ctflow profile delete``
(``/1/delete/profiles.json``, §3). Deleting is irreversible: it asks on a terminal, and without
one it needs ``--yes``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ctflow.clevertap import Profile
from ctflow.commands.reading import Reader, table
from ctflow.errors import CtflowError, ExitCode, UsageError

Confirm = Callable[[str], bool]
_DATE = re.compile(r"\$D_(-?[0-9]{1,12})")


def get(reader: Reader, key: str, value: str, fmt: str) -> int:
    """One profile by ``key`` (``identity``, ``email`` or ``object_id``); exit 1 if none."""

    async def ask() -> Profile | None:
        async with reader.client() as client:
            found: Profile | None = await client.get_profile(**{key: value})
            return found

    profile = asyncio.run(ask())
    label = key.replace("_", " ")
    if profile is None:
        raise CtflowError(f"no profile with {label} {value!r} ({reader.place})")
    if fmt == "json":
        reader.json({"environment": reader.environment, "profile": dict(profile.raw)})
        return ExitCode.OK
    out = reader.out
    raw = profile.raw
    out.write(f"Profile {label} {value!r} ({reader.place})\n")
    ids = [("identity", profile.identity), ("email", profile.email)]
    ids.append(("objectId", str(raw["objectId"]) if raw.get("objectId") else None))
    for name, shown in ids:
        if shown:
            out.write(f"  {name}: {shown}\n")
    if profile.profile_data:
        out.write("\n")
        rows = [[k, _value(v, reader.timezone)] for k, v in sorted(profile.profile_data.items())]
        table(reader, ["PROPERTY", "VALUE"], rows)
    if profile.events:
        out.write("\n")
        table(
            reader,
            ["EVENT", "COUNT", "FIRST SEEN", "LAST SEEN"],
            [_event_row(name, row, reader.timezone) for name, row in profile.events.items()],
            right=(1,),
        )
    if profile.platform_info:
        out.write("\n")
        table(reader, list(_DEVICE.values()), [_device(p) for p in profile.platform_info])
    return ExitCode.OK


def _value(value: Any, timezone: str) -> str:
    """A property as people read it: CleverTap's dates (``$D_<epoch seconds>``, §1.6) as a day
    in the account's timezone, with the time of day when it is not midnight."""
    if isinstance(value, str):
        date = _DATE.fullmatch(value)
        if date is None:
            return value
        try:
            moment = datetime.fromtimestamp(int(date[1]), UTC).astimezone(ZoneInfo(timezone))
        except (OverflowError, OSError, ValueError):
            return value
        midnight = (moment.hour, moment.minute, moment.second) == (0, 0, 0)
        return moment.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M")
    return json.dumps(value, ensure_ascii=False)


def _event_row(name: str, summary: Any, timezone: str) -> list[str]:
    fields = summary if isinstance(summary, dict) else {}
    count = fields.get("count")
    return [
        name,
        f"{count:,}" if isinstance(count, int) else str(count or "-"),
        _when(fields.get("first_seen"), timezone),
        _when(fields.get("last_seen"), timezone),
    ]


def _when(epoch: Any, timezone: str) -> str:
    """§1.6: first_seen/last_seen are epoch seconds; shown in the account's timezone."""
    if isinstance(epoch, bool) or not isinstance(epoch, int | float):
        return "-"
    moment = datetime.fromtimestamp(epoch, UTC).astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%d %H:%M")


_DEVICE = {
    "platform": "PLATFORM",
    "os_version": "OS",
    "make": "MAKE",
    "model": "MODEL",
    "app_version": "APP",
}


def _device(platform: Mapping[str, Any]) -> list[str]:
    return [str(platform.get(key) or "-") for key in _DEVICE]


def delete(
    reader: Reader,
    identities: Sequence[str],
    object_ids: Sequence[str],
    *,
    yes: bool,
    confirm: Confirm | None,
) -> int:
    """Delete profiles, after a ``yes`` on the terminal (``confirm``) unless ``yes``."""
    if not identities and not object_ids:
        raise UsageError("name the profiles to delete: --identity ID or --object-id ID")
    named = [*(f"identity {i}" for i in identities), *(f"object id {o}" for o in object_ids)]
    what = f"{len(named)} profile(s)" if len(named) > 3 else ", ".join(named)
    if not yes:
        if confirm is None:
            raise UsageError(
                f"refusing to delete {what} ({reader.place}) without confirmation: there is no "
                "terminal to ask on. Deleting profiles is irreversible; add --yes to delete "
                "without asking"
            )
        reader.out.write(
            f"Delete {what} ({reader.place})? Their data and event history are erased; this "
            "cannot be undone.\n"
        )
        if not confirm("Delete them? Only 'yes' will be accepted"):
            reader.out.write("Cancelled; nothing was deleted.\n")
            return ExitCode.ERROR

    async def ask() -> None:
        async with reader.client() as client:
            await client.delete_profiles(identities=identities, guids=object_ids)

    asyncio.run(ask())
    reader.out.write(f"Deleted {what} ({reader.place}).\n")
    return ExitCode.OK
