"""The daily digest for the secretary and the grid leader: yesterday's flow, what is open, the three rates.

Rates are over the 30 days ending with yesterday (see README, "The digest"):
  响应率 response rate    = requests claimed by their respond-by / requests whose respond-by has passed or were claimed
  解决率 resolution rate  = requests done or closed / requests filed (withdrawn, merged and rejected left out)
  满意率 satisfaction     = scores of 3–5 (满意, 基本满意) / all scores given
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from handlers.context import Turn
from handlers.deadlines import digest_due, local_day_start
from handlers.kept import kept_lines
from handlers.rating import SATISFIED_FROM
from handlers.views import line
from storage.models import Request

WINDOW_DAYS = 30
HOTSPOT_REPORTS = 3
NOT_COUNTED = ("withdrawn", "merged", "rejected")


@dataclass
class Figures:
    """The numbers of one digest."""

    day: str
    new: int = 0
    claimed: int = 0
    done: int = 0
    rated: int = 0
    followers: int = 0
    open: list[Request] = field(default_factory=list)
    overdue: list[Request] = field(default_factory=list)
    response_rate: float | None = None
    resolution_rate: float | None = None
    satisfaction_rate: float | None = None
    per_grid: dict[str, dict[str, int]] = field(default_factory=dict)
    per_member: dict[int, dict[str, int]] = field(default_factory=dict)
    top_categories: list[tuple[str, int]] = field(default_factory=list)
    hotspots: list[tuple[str, str, int]] = field(default_factory=list)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def overdue(request: Request, now) -> bool:
    """Past respond-by without a claim, or past resolve-by without being done."""
    return (request.responded_at is None and request.respond_by < now) or request.resolve_by < now


def overdue_since(request: Request, now):
    """When the first deadline it has missed passed: respond-by if still unclaimed, else resolve-by."""
    missed = [request.resolve_by]
    if request.responded_at is None:
        missed.append(request.respond_by)
    return min(d for d in missed if d < now)


def _late(t: Turn, request: Request, lang: str) -> str:
    """How long past its deadline, as the secretary reads it: 超时 5 小时, 超时 3 天."""
    hours = (t.now - overdue_since(request, t.now)).total_seconds() / 3600
    if hours < 1:
        return t.svc.catalog.text(lang, "digest.late_minutes")
    if hours < 48:
        return t.svc.catalog.text(lang, "digest.late_hours", n=f"{hours:.0f}")
    return t.svc.catalog.text(lang, "digest.late_days", n=f"{hours / 24:.0f}")


def compute(t: Turn) -> Figures:
    """The figures for the day before today (community time)."""
    day_start, day_end = local_day_start(t.community, t.now, 1), local_day_start(t.community, t.now)
    window_start = day_end - timedelta(days=WINDOW_DAYS)
    fig = Figures(day=day_start.astimezone(t.community.zone).date().isoformat())
    q = t.uow.figures
    filed = q.filed_since(window_start)
    fig.new = sum(day_start <= r.created_at < day_end for r in filed)
    events = q.events_between(day_start, day_end, ("claimed", "done", "followed"))
    fig.claimed = sum(e.action == "claimed" for e in events)
    fig.done = sum(e.action == "done" for e in events)
    fig.followers = sum(e.action == "followed" for e in events)
    fig.rated = len(q.ratings_between(day_start, day_end))
    fig.open = q.still_open()
    fig.overdue = [r for r in fig.open if overdue(r, t.now)]

    counted = [r for r in filed if r.created_at < day_end and r.state not in NOT_COUNTED]
    due = [r for r in counted if r.responded_at is not None or r.respond_by < day_end]
    fig.response_rate = _rate(sum(bool(r.responded_at and r.responded_at <= r.respond_by) for r in due), len(due))
    fig.resolution_rate = _rate(sum(r.state in ("done", "closed") for r in counted), len(counted))
    scores = q.ratings_between(window_start, day_end)
    fig.satisfaction_rate = _rate(sum(s.score >= SATISFIED_FROM for s in scores), len(scores))

    for r in counted:
        for table, key in ((fig.per_grid, r.grid or "-"), (fig.per_member, r.assignee_id)):
            row = table.setdefault(key, Counter())
            row["filed"] += 1
            row["done"] += r.state in ("done", "closed")
            row["open"] += r.state in ("new", "assigned", "claimed", "reopened")
            row["overdue"] += r in fig.overdue
    reports = Counter((r.building, r.category) for r in filed if r.created_at < day_end and r.state != "merged")
    for follower, request in q.followers_since(window_start):
        if follower.created_at < day_end:
            reports[(request.building, request.category)] += 1
    by_category = Counter()
    for (_, category), count in reports.items():
        by_category[category] += count
    fig.top_categories = by_category.most_common(3)
    fig.hotspots = sorted(((b, c, n) for (b, c), n in reports.items() if b and n >= HOTSPOT_REPORTS),
                          key=lambda h: -h[2])
    return fig


def render(t: Turn, fig: Figures, lang: str) -> str:
    """The digest as one message."""
    cat = t.svc.catalog
    pct = lambda v: "—" if v is None else f"{v:.0%}"  # noqa: E731
    parts = [cat.text(lang, "digest.head", community=t.community.community.name, day=fig.day, new=fig.new,
                      claimed=fig.claimed, done=fig.done, rated=fig.rated, followers=fig.followers),
             cat.text(lang, "digest.rates", response=pct(fig.response_rate), resolution=pct(fig.resolution_rate),
                      satisfaction=pct(fig.satisfaction_rate))]
    parts.append(cat.text(lang, "digest.open" if fig.overdue else "digest.open_in_time", open=len(fig.open),
                          overdue=len(fig.overdue)))
    for r in fig.overdue:
        parts.append(cat.text(lang, "digest.overdue_line", line=line(t, r, lang), late=_late(t, r, lang)))
    grid_names = {g.id: g.name for g in t.community.grids}
    if fig.per_grid:
        parts.append(cat.text(lang, "digest.grid_head"))
        for key, row in sorted(fig.per_grid.items()):
            name = grid_names.get(key, key) if key != "-" else cat.text(lang, "place.unknown")
            parts.append(cat.text(lang, "digest.table_line", name=name, **row))
    if fig.per_member:
        parts.append(cat.text(lang, "digest.member_head"))
        for key, row in sorted(fig.per_member.items(), key=lambda kv: kv[0] or 0):
            person = t.uow.people.get(key) if key else None
            name = person.name if person else cat.text(lang, "role.nobody")
            parts.append(cat.text(lang, "digest.table_line", name=name, **row))
    if fig.top_categories:
        tops = "、".join(f"{cat.label(lang, 'category', c)} {n}" for c, n in fig.top_categories)
        parts.append(cat.text(lang, "digest.top", tops=tops))
    for building, category, count in fig.hotspots:
        parts.append(cat.text(lang, "digest.hotspot", building=building, count=count,
                              category=cat.label(lang, "category", category)))
    if unreachable := t.uow.people.unreachable_staff():
        parts.append(cat.text(lang, "digest.unreachable", names="、".join(p.name for p in unreachable)))
    parts.extend(kept_lines(t, lang))  # until a person handles them
    return "\n".join(parts)


def send_if_due(t: Turn) -> bool:
    """Send today's digest once, to the secretary and the leader, when its time has come."""
    if not digest_due(t.community, t.now):
        return False
    today = t.now.astimezone(t.community.zone).date().isoformat()
    if not t.uow.ledger.claim_digest(t.community.community.name, today, t.now):
        return False
    fig = compute(t)
    for role in ("secretary", "leader"):
        member = t.community.first_with_role(role)
        person = t.uow.people.by_staff_id(member.id) if member else None
        if person is not None:
            t.say.to_person(person, "digest.body", urgent=True, body=render(t, fig, person.language))
    return True
