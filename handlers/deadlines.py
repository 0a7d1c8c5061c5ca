"""The one place deadlines and quiet hours are computed."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from handlers.community import Community


def deadlines(community: Community, category: str, urgent: bool, start: datetime) -> tuple[datetime, datetime]:
    """Respond-by and resolve-by for a request filed at start.

    Urgent ones run from that minute, day or night. Other work waits for the day: a report at 23:30 is due an
    hour after quiet hours end, and no deadline falls inside them, so nobody is reminded or escalated in the
    night over something that can wait for the morning.
    """
    cat = community.categories[category]
    if urgent:
        return start + cat.urgent_respond, start + cat.urgent_resolve
    begin = quiet_until(community, start) or start
    return _by_day(community, begin + cat.respond), _by_day(community, begin + cat.resolve)


def _by_day(community: Community, at: datetime) -> datetime:
    return quiet_until(community, at) or at


def quiet_until(community: Community, at: datetime) -> datetime | None:
    """When quiet hours end, if `at` falls inside them; None when it is a fine time to message residents."""
    local = at.astimezone(community.zone)
    start, end = community.quiet_hours.start, community.quiet_hours.end
    now = local.time()
    inside = (start <= now or now < end) if start > end else (start <= now < end)
    if not inside or start == end:
        return None
    end_day = local.date() if now < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=community.zone).astimezone(at.tzinfo)


def local_day_start(community: Community, at: datetime, days_back: int = 0) -> datetime:
    """Midnight, in the community's time zone, of the day `days_back` before the day of `at`."""
    day = at.astimezone(community.zone).date() - timedelta(days=days_back)
    return datetime.combine(day, time(0), tzinfo=community.zone).astimezone(at.tzinfo)


def digest_due(community: Community, at: datetime) -> bool:
    """Whether the daily digest time has passed today, in the community's time zone."""
    return at.astimezone(community.zone).time() >= community.schedule.digest_at
