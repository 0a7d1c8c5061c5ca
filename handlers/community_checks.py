"""What config.yaml can get wrong beyond its types: ids pointing nowhere or used twice, deadlines that contradict."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

CHANNELS = ("console", "telegram", "wechat")
KEEP_AT_LEAST = timedelta(days=7)  # Telegram redelivers for a day; WeChat gateways replay less


@dataclass(frozen=True)
class Problem:
    """One thing wrong with config.yaml: where (section, the id of the item in it, the key within) and what (a
    text under `config.problem.` in the catalogs, with its values), so it can be told in the community's language."""

    section: str
    item: str | None
    key: str | None
    what: str
    params: dict[str, Any] = field(default_factory=dict)


def problems(c, categories: tuple[str, ...]) -> Iterator[Problem]:
    """Every inconsistency of a Community whose parts are each valid; `categories` are those the bot knows."""
    yield from _members(c)
    yield from _grids(c)
    yield from _chats(c)
    yield from _categories(c, categories)
    yield from _ladder(c)
    yield from _times(c)


def _twice(section: str, items, key: str | None, what: str = "taken") -> Iterator[Problem]:
    """Each item whose value under `key` an earlier item has already (ids, contacts, chat ids, codes)."""
    first: dict[Any, str] = {}
    for item_id, found in items:
        if found is None:
            continue
        if found in first:
            yield Problem(section, item_id, key, what, {"value": found, "other": first[found]})
        else:
            first[found] = item_id


def _members(c) -> Iterator[Problem]:
    yield from _twice("members", [(m.id, m.id) for m in c.members], None, "duplicate_id")
    for m in c.members:
        if not m.contacts and not m.bind_code:  # a bind_code lets them bind an account themselves
            yield Problem("members", m.id, "contacts", "no_contact")
    for channel in CHANNELS:
        yield from _twice("members", [(m.id, m.contacts.get(channel)) for m in c.members], f"contacts.{channel}")
    for m in c.members:
        if not _telegram_id(m.contacts.get("telegram")):
            yield Problem("members", m.id, "contacts.telegram", "not_telegram_id", {"value": m.contacts["telegram"]})
    yield from _twice("members", [(m.id, m.bind_code) for m in c.members], "bind_code")


def _grids(c) -> Iterator[Problem]:
    known = {m.id for m in c.members}
    yield from _twice("grids", [(g.id, g.id) for g in c.grids], None, "duplicate_id")
    yield from _twice("grids", [(g.id, b) for g in c.grids for b in g.buildings], "buildings", "building_taken")
    for g in c.grids:
        if g.member not in known:
            yield Problem("grids", g.id, "member", "unknown_member", {"value": g.member})
        for v in g.volunteers:
            if v not in known:
                yield Problem("grids", g.id, "volunteers", "unknown_member", {"value": v})


def _chats(c) -> Iterator[Problem]:
    buildings = {b for g in c.grids for b in g.buildings}
    yield from _twice("chats", [(ch.id, ch.id) for ch in c.chats], None, "duplicate_id")
    yield from _twice("chats", [(ch.id, ch.name) for ch in c.chats], "name")
    for channel in CHANNELS:
        yield from _twice("chats", [(ch.id, getattr(ch, channel)) for ch in c.chats], channel)
    for ch in c.chats:
        if not _telegram_id(ch.telegram):
            yield Problem("chats", ch.id, "telegram", "not_telegram_id", {"value": ch.telegram})
        for b in ch.buildings:
            if b not in buildings:
                yield Problem("chats", ch.id, "buildings", "building_unknown", {"value": b})


def _telegram_id(value: str | None) -> bool:
    """Telegram names users and groups by number (a group's is negative); an @username reaches nobody."""
    return value is None or value.removeprefix("-").isdigit()


def _categories(c, categories: tuple[str, ...]) -> Iterator[Problem]:
    known = {m.id for m in c.members}
    for name in categories:
        if name not in c.categories:
            yield Problem("categories", name, None, "category_missing")
    for name, cat in c.categories.items():
        if name not in categories:
            yield Problem("categories", name, None, "category_unknown", {"known": ", ".join(categories)})
        for who in cat.inform:
            if who not in known:
                yield Problem("categories", name, "inform", "unknown_member", {"value": who})
        # A notice would say "12-02 前接单，12-01 前办结"; urgent work would wait longer than routine work.
        for sooner, later, what in (("respond", "resolve", "respond_after_resolve"),
                                    ("urgent_respond", "urgent_resolve", "respond_after_resolve"),
                                    ("urgent_respond", "respond", "urgent_slower"),
                                    ("urgent_resolve", "resolve", "urgent_slower")):
            if getattr(cat, sooner) > getattr(cat, later):
                yield Problem("categories", name, sooner, what, {
                    "field": sooner, "value": getattr(cat, sooner), "other_field": later, "other": getattr(cat, later)})


def _ladder(c) -> Iterator[Problem]:
    known = {m.id for m in c.members}
    if not c.escalation:
        yield Problem("escalation", None, None, "ladder_empty")
    for who in c.escalation:
        if who not in known:
            yield Problem("escalation", None, None, "unknown_member", {"value": who})
    yield from _twice("escalation", [(None, who) for who in c.escalation], None, "ladder_twice")


def _times(c) -> Iterator[Problem]:
    quiet = c.quiet_hours
    day = datetime(2000, 1, 1)
    length = (datetime.combine(day, quiet.end) - datetime.combine(day, quiet.start)) % timedelta(days=1)
    if length > timedelta(hours=12):  # 08:00 to 22:00: the day held back, the night not
        yield Problem("quiet_hours", None, None, "quiet_swapped", {"start": f"{quiet.start:%H:%M}",
                      "end": f"{quiet.end:%H:%M}", "hours": length // timedelta(hours=1)})
    schedule = c.schedule
    if any(after >= schedule.close_unrated_after for after in schedule.rating_reask):
        yield Problem("schedule", None, "close_unrated_after", "closes_before_reask", {
            "value": schedule.close_unrated_after, "other": max(schedule.rating_reask)})
    if schedule.keep_history < KEEP_AT_LEAST:  # a redelivered message must still be known as handled
        yield Problem("schedule", None, "keep_history", "keeps_too_little", {"value": schedule.keep_history,
                                                                            "other": KEEP_AT_LEAST})
