"""The figures page: the three rates week by week, per grid and per assignee, the top categories, buildings by
categories, and what is overdue now; over the digest's own window and with the digest's definitions
(handlers/digest.py), computed by the digest's own aggregate queries (storage/figures.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request as HttpRequest

from bot.web import charts
from bot.web.access import Viewer, bot, reading, viewer
from bot.web.render import page
from handlers.context import Turn
from handlers.deadlines import local_day_start
from handlers.digest import HOTSPOT_REPORTS, NOT_COUNTED, WINDOW_DAYS
from handlers.rating import SATISFIED_FROM
from storage.workbench import RequestFilter

WEEKS = 12
router = APIRouter()


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Rates:
    """响应率, 解决率 and 满意率 of one period, and the counts behind them."""

    filed: int = 0
    done: int = 0
    open: int = 0
    overdue: int = 0
    response: float | None = None
    resolution: float | None = None
    satisfaction: float | None = None


@dataclass
class Period:
    """Everything the page shows for the digest's window."""

    start: datetime
    end: datetime
    total: Rates = field(default_factory=Rates)
    per_grid: dict[str | None, Rates] = field(default_factory=dict)
    per_member: dict[int | None, Rates] = field(default_factory=dict)
    top_categories: list[tuple[str, int]] = field(default_factory=list)
    places: dict[tuple[str | None, str], int] = field(default_factory=dict)
    hotspots: set[tuple[str, str]] = field(default_factory=set)


def _summed(tallies, scores: tuple[int, int] = (0, 0)) -> Rates:
    """The rates of some tallies, with the digest's formulas (handlers/digest.py)."""
    filed, done = sum(x.filed for x in tallies), sum(x.done for x in tallies)
    return Rates(filed, done, sum(x.open for x in tallies), sum(x.overdue for x in tallies),
                 _rate(sum(x.in_time for x in tallies), sum(x.due for x in tallies)), _rate(done, filed),
                 _rate(scores[1], scores[0]))


def _tallies(t: Turn, start: datetime, end: datetime, grids: tuple[str, ...] | None) -> list:
    return [x for x in t.uow.figures.tallies(start, end, t.now, NOT_COUNTED) if grids is None or x.grid in grids]


def rates(t: Turn, start: datetime, end: datetime, grids: tuple[str, ...] | None) -> Rates:
    """The three rates of requests filed (and scores given) in [start, end), in these grids (None: all)."""
    return _summed(_tallies(t, start, end, grids),
                   t.uow.figures.scores_between(start, end, SATISFIED_FROM, grids))


def period(t: Turn, grids: tuple[str, ...] | None) -> Period:
    """The digest's window (the 30 days ending with yesterday) as the page shows it."""
    end = local_day_start(t.community, t.now)
    start = end - timedelta(days=WINDOW_DAYS)
    tallies = _tallies(t, start, end, grids)
    p = Period(start, end, _summed(tallies, t.uow.figures.scores_between(start, end, SATISFIED_FROM, grids)))
    for key, table in (("grid", p.per_grid), ("assignee_id", p.per_member)):
        for value in dict.fromkeys(getattr(x, key) for x in tallies):
            table[value] = _summed([x for x in tallies if getattr(x, key) == value])
    buildings = None if grids is None else {b for g in t.community.grids if g.id in grids for b in g.buildings}
    p.places = {k: n for k, n in t.uow.figures.reports_by_place(start, end).items()
                if buildings is None or k[0] in buildings}
    by_category: dict[str, int] = {}
    for (_, category), n in p.places.items():
        by_category[category] = by_category.get(category, 0) + n
    p.top_categories = sorted(by_category.items(), key=lambda kv: -kv[1])[:3]
    p.hotspots = {(b, c) for (b, c), n in p.places.items() if b and n >= HOTSPOT_REPORTS}
    return p


def weekly(t: Turn, grids: tuple[str, ...] | None, weeks: int = WEEKS) -> list[tuple[datetime, Rates]]:
    """The three rates of each of the last `weeks` weeks, the latest ending with yesterday."""
    end = local_day_start(t.community, t.now)
    starts = [end - timedelta(days=7 * (k + 1)) for k in reversed(range(weeks))]
    return [(s, rates(t, s, s + timedelta(days=7), grids)) for s in starts]


@router.get("/figures")
def figures_page(http: HttpRequest, who: Viewer = Depends(viewer)):
    """The figures, with charts and the numbers beside them."""
    app = bot(http)
    cat, lang = app.services.catalog, who.lang
    text = lambda key: cat.text(lang, key)  # noqa: E731
    with reading(app, who.person_id) as t:
        p = period(t, who.grids)
        weeks = weekly(t, who.grids)
        names = t.uow.workbench.names(p.per_member)
        late_rows, late_total = t.uow.workbench.overdue_now(t.now, who.scoped(RequestFilter()), 10)
        zone = t.community.zone
    grid_names = {g.id: g.name for g in app.services.community.grids}
    grid_label = lambda g: grid_names.get(g, g) if g else text("web.unplaced")  # noqa: E731
    member_label = lambda m: names.get(m, "") if m else text("web.nobody")  # noqa: E731
    counts = ("filed", "done", "open", "overdue")
    weekly_svg = charts.rates_over_weeks(
        [s.astimezone(zone).strftime("%m-%d") for s, _ in weeks],
        {text(f"web.{k}_rate"): [getattr(r, k) for _, r in weeks] for k in ("response", "resolution", "satisfaction")},
        text("web.no_data"))
    grid_keys = sorted(p.per_grid, key=lambda g: (g is None, g or ""))
    member_keys = sorted(p.per_member, key=lambda m: -p.per_member[m].filed)[:15]
    grid_svg = charts.bars([grid_label(g) for g in grid_keys],
                           {text(f"web.{c}"): [getattr(p.per_grid[g], c) for g in grid_keys] for c in counts},
                           text("web.no_data"))
    member_svg = charts.bars([member_label(m) for m in member_keys],
                             {text(f"web.{c}"): [getattr(p.per_member[m], c) for m in member_keys] for c in counts},
                             text("web.no_data"))
    top_svg = charts.bars([cat.label(lang, "category", c) for c, _ in p.top_categories],
                          {text("web.filed"): [n for _, n in p.top_categories]}, text("web.no_data"))
    buildings = sorted({b for b, _ in p.places if b}, key=lambda b: (len(b), b))
    categories = sorted({c for _, c in p.places}, key=lambda c: list(app.services.community.categories).index(c)
                        if c in app.services.community.categories else 99)
    return page(http, "figures.html", who, p=p, weeks=weeks, weekly_svg=weekly_svg, grid_svg=grid_svg,
                member_svg=member_svg, top_svg=top_svg, grid_keys=grid_keys, member_keys=member_keys,
                grid_label=grid_label, member_label=member_label, buildings=buildings, categories=categories,
                late_rows=late_rows, late_total=late_total, pct=lambda v: "—" if v is None else f"{v:.0%}",
                day=lambda at: at.astimezone(zone).strftime("%Y-%m-%d"), last_day=lambda at: (
                    at - timedelta(days=1)).astimezone(zone).strftime("%Y-%m-%d"))
