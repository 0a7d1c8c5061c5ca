"""The daily digest for the secretary and the grid leader: yesterday's flow, what is open, the three rates.

Rates are over the 30 days ending with yesterday (see README, "The digest"):
  响应率 response rate    = requests claimed by their respond-by / requests whose respond-by has passed or were claimed
  解决率 resolution rate  = requests done or closed / requests filed (withdrawn, merged and rejected left out)
  满意率 satisfaction     = scores of 3–5 (满意, 基本满意) / all scores given
Every figure is an aggregate query (storage/figures.py); the message stays under LINES_AT_MOST lines however big the
community: the longest overdue SHOWN requests, the tables' busiest rows, and the count of the rest (`超时` pages them).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from handlers import permissions
from handlers.commands import Command
from handlers.context import Turn
from handlers.deadlines import digest_due, local_day_start
from handlers.kept import kept_lines
from handlers.rating import SATISFIED_FROM
from handlers.views import PAGE, late_by, line, listing
from storage.models import Request

WINDOW_DAYS = 30
HOTSPOT_REPORTS = 3
NOT_COUNTED = ("withdrawn", "merged", "rejected")
SHOWN = PAGE  # overdue requests listed in the digest; `超时` lists them all, a page at a time
TABLE_ROWS = 8  # rows of each table: the grids and people with the most overdue, then the most open
HOTSPOTS_SHOWN = 3
KEPT_SHOWN = 3
URGENT_SHOWN = 5
LINES_AT_MOST = 60  # what a secretary reads in a minute; tests hold the digest to it


@dataclass
class Figures:
    """The numbers of one digest: counts, rates, the most overdue requests, and the tables."""

    day: str
    new: int = 0
    claimed: int = 0
    done: int = 0
    rated: int = 0
    followers: int = 0
    open: int = 0
    overdue: int = 0
    most_overdue: list[Request] = field(default_factory=list)  # at most SHOWN, the longest overdue first
    urgent: list[Request] = field(default_factory=list)  # filed since yesterday began, to now: at most URGENT_SHOWN
    urgent_count: int = 0
    response_rate: float | None = None
    resolution_rate: float | None = None
    satisfaction_rate: float | None = None
    per_grid: dict[str, Counter] = field(default_factory=dict)  # filed / done / open / overdue
    per_member: dict[int | None, Counter] = field(default_factory=dict)
    top_categories: list[tuple[str, int]] = field(default_factory=list)
    hotspots: list[tuple[str, str, int]] = field(default_factory=list)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def overdue_since(request: Request, now):
    """When the first deadline it has missed passed: respond-by if still unclaimed, else resolve-by."""
    missed = [request.resolve_by]
    if request.responded_at is None:
        missed.append(request.respond_by)
    return min(d for d in missed if d < now)


def how_late(t: Turn, request: Request, lang: str) -> str:
    """How long past the first deadline it missed, as the secretary reads it: 超时 5 小时, 超时 3 天."""
    return late_by(t, overdue_since(request, t.now), lang)


def compute(t: Turn) -> Figures:
    """The figures for the day before today (community time)."""
    day_start, day_end = local_day_start(t.community, t.now, 1), local_day_start(t.community, t.now)
    window_start = day_end - timedelta(days=WINDOW_DAYS)
    fig = Figures(day=day_start.astimezone(t.community.zone).date().isoformat())
    q = t.uow.figures
    fig.new = q.filed_between(day_start, day_end)
    actions = q.actions_between(day_start, day_end, ("claimed", "done", "followed"))
    fig.claimed, fig.done, fig.followers = (actions.get(a, 0) for a in ("claimed", "done", "followed"))
    fig.rated, _ = q.scores_between(day_start, day_end, SATISFIED_FROM)
    fig.open, fig.overdue = q.backlog(t.now)
    fig.most_overdue = q.most_overdue(t.now, SHOWN)
    # Yesterday's and this night's: a person trapped at 02:00 is news in the 08:00 digest, not tomorrow's.
    fig.urgent, fig.urgent_count = q.urgent_since(day_start, URGENT_SHOWN)

    tallies = q.tallies(window_start, day_end, t.now, NOT_COUNTED)
    filed = sum(x.filed for x in tallies)
    fig.response_rate = _rate(sum(x.in_time for x in tallies), sum(x.due for x in tallies))
    fig.resolution_rate = _rate(sum(x.done for x in tallies), filed)
    given, satisfied = q.scores_between(window_start, day_end, SATISFIED_FROM)
    fig.satisfaction_rate = _rate(satisfied, given)
    for x in tallies:
        for table, key in ((fig.per_grid, x.grid or "-"), (fig.per_member, x.assignee_id)):
            table.setdefault(key, Counter()).update(filed=x.filed, done=x.done, open=x.open, overdue=x.overdue)

    reports = q.reports_by_place(window_start, day_end)
    by_category = Counter()
    for (_, category), count in reports.items():
        by_category[category] += count
    order = {name: i for i, name in enumerate(t.community.categories)}  # ties: in config's order
    fig.top_categories = sorted(by_category.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order))))[:3]
    fig.hotspots = sorted(((b, c, n) for (b, c), n in reports.items() if b and n >= HOTSPOT_REPORTS),
                          key=lambda h: (-h[2], h[0], order.get(h[1], len(order))))
    return fig


def render(t: Turn, fig: Figures, lang: str) -> str:
    """The digest as one message, at most LINES_AT_MOST lines."""
    cat = t.svc.catalog
    pct = lambda v: "—" if v is None else f"{v:.0%}"  # noqa: E731
    parts = [cat.text(lang, "digest.head", community=t.community.community.name, day=fig.day, new=fig.new,
                      claimed=fig.claimed, done=fig.done, rated=fig.rated, followers=fig.followers),
             cat.text(lang, "digest.rates", response=pct(fig.response_rate), resolution=pct(fig.resolution_rate),
                      satisfaction=pct(fig.satisfaction_rate))]
    if fig.urgent_count:
        parts.append(cat.text(lang, "digest.urgent", n=fig.urgent_count))
        parts.extend(cat.text(lang, "digest.urgent_line", line=line(t, r, lang)) for r in fig.urgent)
        if fig.urgent_count > len(fig.urgent):
            parts.append(cat.text(lang, "digest.more_rows", n=fig.urgent_count - len(fig.urgent)))
    parts.append(cat.text(lang, "digest.open" if fig.overdue else "digest.open_in_time", open=fig.open,
                          overdue=fig.overdue))
    for r in fig.most_overdue:
        parts.append(cat.text(lang, "digest.overdue_line", line=line(t, r, lang)))
    if fig.overdue > len(fig.most_overdue):
        parts.append(cat.text(lang, "digest.more_overdue", n=fig.overdue - len(fig.most_overdue)))
    grid_names = {g.id: g.name for g in t.community.grids}

    def grid_name(key):
        return grid_names.get(key, key) if key != "-" else cat.text(lang, "place.unknown")

    def member_name(key):
        person = t.uow.people.get(key) if key else None
        return person.name if person else cat.text(lang, "role.nobody")

    for head, table, name in (("digest.grid_head", fig.per_grid, grid_name),
                              ("digest.member_head", fig.per_member, member_name)):
        parts.extend(_table(t, lang, head, table, name))
    if fig.top_categories:
        tops = "、".join(f"{cat.label(lang, 'category', c)} {n}" for c, n in fig.top_categories)
        parts.append(cat.text(lang, "digest.top", tops=tops))
    for building, category, count in fig.hotspots[:HOTSPOTS_SHOWN]:
        parts.append(cat.text(lang, "digest.hotspot", building=building, count=count,
                              category=cat.label(lang, "category", category)))
    if len(fig.hotspots) > HOTSPOTS_SHOWN:
        parts.append(cat.text(lang, "digest.more_rows", n=len(fig.hotspots) - HOTSPOTS_SHOWN))
    if unreachable := t.uow.people.unreachable_staff():
        parts.append(cat.text(lang, "digest.unreachable", names="、".join(p.name for p in unreachable)))
    parts.extend(kept_lines(t, lang, KEPT_SHOWN))  # until a person handles them
    return "\n".join(parts)


def _table(t: Turn, lang: str, head: str, table: dict, name) -> list[str]:
    """A table's head and its TABLE_ROWS rows with the most overdue (then open, then filed), and a count of the
    rest; in a small community, every row."""
    if not table:
        return []
    cat = t.svc.catalog
    busiest = sorted(table.items(), key=lambda kv: (-kv[1]["overdue"], -kv[1]["open"], -kv[1]["filed"], str(kv[0])))
    rows = [cat.text(lang, "digest.table_line", name=name(key), filed=row["filed"], done=row["done"],
                     open=row["open"], overdue=row["overdue"]) for key, row in busiest[:TABLE_ROWS]]
    more = [cat.text(lang, "digest.more_rows", n=len(table) - TABLE_ROWS)] if len(table) > TABLE_ROWS else []
    return [cat.text(lang, head), *rows, *more]


def overdue_page(t: Turn, page: int) -> tuple[str, int]:
    """One page of every overdue request, the longest overdue first, for `超时 N`; and how many there are."""
    _, total = t.uow.figures.backlog(t.now)
    requests = t.uow.figures.most_overdue(t.now, PAGE, (page - 1) * PAGE)
    lines = [t.svc.catalog.text(t.lang, "digest.overdue_line", line=line(t, r, t.lang)) for r in requests]
    return listing(t, t.lang, "overdue.head", lines, total, page, more="overdue.more"), total


def overdue_command(t: Turn, cmd: Command) -> None:
    """超时 [N]: page N of every overdue request, for the leader, the secretary and the escalation ladder; asked
    in a group, the list goes to the private chat."""
    permissions.check(t, "overdue")
    body, total = overdue_page(t, max(cmd.number or 1, 1))
    t.reply_in_private("overdue.body", "overdue.group.", {"count": total}, body=body)


def digest_command(t: Turn, cmd: Command) -> None:
    """日报: the digest as it stands now, for those who get it each morning; asked in a group, it goes privately."""
    permissions.check(t, "digest")
    t.reply_in_private("digest.body", "digest.group.", {}, body=render(t, compute(t), t.lang))


def due_today(t: Turn) -> str | None:
    """Today's date (community time) when today's digest is due and has not gone out yet; else None."""
    if not digest_due(t.community, t.now):
        return None
    today = t.now.astimezone(t.community.zone).date().isoformat()
    return None if t.uow.ledger.digest_sent(t.community.community.name, today) else today


def prepare(t: Turn) -> dict[str, str]:
    """The digest for each recipient (the secretary and the leader, by staff id), each in her language.

    Only reads: run it in a read unit of work, then `send` it in a short write one."""
    fig, bodies = compute(t), {}
    for role in ("secretary", "leader"):
        member = t.community.first_with_role(role)
        person = t.uow.people.by_staff_id(member.id) if member else None
        if person is not None:
            bodies[member.id] = render(t, fig, person.language)
    return bodies


def send(t: Turn, day: str, bodies: dict[str, str]) -> bool:
    """Queue a prepared digest, once per community and day however many instances prepared it."""
    if not t.uow.ledger.claim_digest(t.community.community.name, day, t.now):
        return False
    for staff_id, body in bodies.items():
        t.say.to_person(t.uow.people.by_staff_id(staff_id), "digest.body", urgent=True, body=body)
    return True
