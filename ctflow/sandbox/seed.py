"""A deterministic, realistic demo population: profiles with tokens and 60 days of events.

Imports only the standard library and sandbox modules.
"""

from __future__ import annotations

import json
import random
from typing import Any

from ctflow.sandbox import dashboard
from ctflow.sandbox.store import Store

FEMALE = ("Aanya", "Diya", "Isha", "Kavya", "Meera", "Priya", "Riya", "Sara", "Tara", "Zoya")
MALE = ("Aarav", "Arjun", "Dev", "Ishaan", "Kabir", "Nikhil", "Rohan", "Sahil", "Vihaan", "Yash")
LAST = ("Bose", "Das", "Gupta", "Iyer", "Kapoor", "Mehta", "Nair", "Patel", "Rao", "Shah", "Singh")
CITIES = ("Mumbai", "Delhi", "Bengaluru", "Chennai", "Hyderabad", "Pune", "Kolkata", "Jaipur")
CATEGORIES = ("Electronics", "Fashion", "Books", "Home", "Beauty", "Sports")
CART_PRICE = {
    "Electronics": 2999,
    "Fashion": 999,
    "Books": 499,
    "Home": 1499,
    "Beauty": 499,
    "Sports": 1499,
}
SOURCES = ("direct", "organic", "push", "email")
WINDOW = 60 * 86400


def _platform(rng: random.Random, guid: str) -> list[dict[str, Any]]:
    roll = rng.random()
    entries: list[dict[str, Any]] = []
    if roll < 0.70:
        entries.append(
            {
                "platform": "Android",
                "os_version": rng.choice(("12", "13", "14")),
                "app_version": "4.2.0",
                "make": rng.choice(("Samsung", "Xiaomi", "OnePlus")),
                "model": "Phone",
                "push_token": f"fcm:{guid[:24]}",
                "token_type": "fcm",
                "objectId": guid,
            }
        )
    if 0.62 < roll < 0.92:
        entries.append(
            {
                "platform": "iOS",
                "os_version": rng.choice(("16.4", "17.2")),
                "app_version": "4.2.0",
                "make": "Apple",
                "model": "iPhone",
                "push_token": guid[::-1] + guid,
                "token_type": "apns",
                "objectId": guid,
            }
        )
    return entries


def _events(rng: random.Random, pid: int, start: int, now: int) -> list[tuple[Any, ...]]:
    def at() -> int:
        return rng.randint(start, now)

    def row(name: str, ts: int, props: dict[str, Any]) -> tuple[Any, ...]:
        session = {"Source": rng.choice(SOURCES)}
        return (pid, name, ts, json.dumps(props), json.dumps(session))

    # The properties an online shop's tracking plan requires (the example project's): the
    # random draws stay in the same order, so a seed gives the same population as before.
    rows = [row("Signed Up", start, {"Method": rng.choice(("email", "google", "phone"))})]
    rows += [row("App Launched", at(), {}) for _ in range(rng.randint(1, 4))]
    for _ in range(rng.randint(0, 3)):
        price = rng.choice((199, 499, 999, 1499, 2999, 4999))
        ts, category = at(), rng.choice(CATEGORIES)
        viewed = {"Product ID": _product(category, price), "Category": category, "Price": price}
        rows.append(row("Product Viewed", ts, {**viewed, "Currency": "INR"}))
    if rng.random() < 0.4:
        ts, category = at(), rng.choice(CATEGORIES)
        price = CART_PRICE[category]
        added = {"Product ID": _product(category, price), "Category": category, "Price": price}
        rows.append(row("Added To Cart", ts, {**added, "Currency": "INR"}))
    if rng.random() < 0.25:
        amount = rng.choice((299, 799, 1299, 2499, 5999))
        order = f"SO-{pid:06d}-{len(rows)}"
        paid = {"Charged ID": order, "Amount": amount, "Currency": "INR", "Payment Mode": "UPI"}
        rows.append(row("Charged", at(), paid))
    return rows


def _product(category: str, price: int) -> str:
    return f"{category[:4].upper()}-{price}"


def seed(store: Store, now: float, profiles: int, seed: int) -> dict[str, Any]:
    """Replace every profile and event (campaigns and sends stay) with `profiles` demo users,
    and the campaigns built in the dashboard with two sent to them lately."""
    rng = random.Random(seed)
    end = int(now)
    people: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    push = email_opted_in = 0
    for pid in range(1, profiles + 1):
        gender = rng.choice("MF")
        first = rng.choice(MALE if gender == "M" else FEMALE)
        last = rng.choice(LAST)
        guid = f"{rng.getrandbits(128):032x}"
        email = f"{first}.{last}.{pid}@example.com".lower()
        signup = end - rng.randint(3600, WINDOW)
        data = {
            "Name": f"{first} {last}",
            "Email": email,
            "Phone": "+91" + rng.choice("6789") + f"{rng.randrange(10**9):09d}",
            "Gender": gender,
            "City": rng.choice(CITIES),
            "Customer Type": rng.choices(("Silver", "Gold", "Platinum"), (60, 30, 10))[0],
            "Age": rng.randint(18, 65),
            "MSG-email": rng.random() < 0.9,
            "MSG-push": True,
            "MSG-sms": rng.random() < 0.8,
        }
        devices = _platform(rng, guid)
        push += bool(devices)
        email_opted_in += bool(data["MSG-email"])
        platform = json.dumps(devices)
        people.append((pid, guid, f"user-{pid:05d}", email, json.dumps(data), platform, signup))
        events += _events(rng, pid, signup, end)
    with store.transaction():
        store.clear_people()
        store.bulk_profiles(people)
        store.bulk_events(events)
        built = dashboard.seed(store, now, push, email_opted_in)
    return {"profiles": profiles, "events": len(events), "seed": seed, "dashboard_campaigns": built}
