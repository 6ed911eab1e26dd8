"""CleverTap regions and the API host each one answers on."""

from __future__ import annotations

from ctflow.clevertap.errors import UnknownRegionError

REGIONS: dict[str, str] = {
    region: f"https://{region}.api.clevertap.com"
    for region in ("eu1", "in1", "sg1", "us1", "aps3", "mec1")
}
"""Region name → base URL. Europe is CleverTap's default region."""

ALIASES: dict[str, str] = {"eu": "eu1"}


def base_url_for(region: str) -> str:
    """The base URL of ``region`` (case-insensitive; ``eu`` means ``eu1``)."""
    name = region.strip().lower()
    name = ALIASES.get(name, name)
    try:
        return REGIONS[name]
    except KeyError:
        valid = ", ".join(sorted(REGIONS))
        raise UnknownRegionError(
            f"unknown CleverTap region {region!r}; valid regions: {valid} (or 'eu' for eu1)"
        ) from None
