"""Benchmark of the web workbench on a large database: the list with filters, the figures page, a full export.

Fills a database with N requests (default 100,000) spread over a year, in realistic proportions (90% closed and
rated or unrated, 5% open in time, 5% overdue), each with its events (filed, assigned, claimed, done, closed or
rated); bulk-inserted with executemany in batches of 5,000 through SQLAlchemy Core, not through the dispatcher.
Then, signed in as the secretary through the app's own link, prints p50/p99 of the list page under a round of
filters (targets: p99 ≤ 150 ms), of the figures page (≤ 500 ms), and the time and peak RSS of an .xlsx export of
every row (≤ 200 MB), measured in a fresh process that does nothing else.

Run: .venv/bin/python bench/web.py [N] [--database sqlite|postgres]
PostgreSQL is the one named by BENCH_DATABASE_URL (default TEST_DATABASE_URL, whose tables it drops).
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.clock import FakeClock  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Event, Person, Rating, Request  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in the community
CATEGORIES = ("elevator", "plumbing", "electricity", "heating", "sanitation", "parking", "noise", "facilities")
BATCH = 5000


def settings_for(url: str) -> Settings:
    """The shipped config on this database."""
    loaded = Settings.load(ROOT / "config.yaml", env={})
    return loaded.model_copy(update={"database_url": url})


def fill(url: str, n: int) -> None:
    """An emptied database with n requests and their events and ratings."""
    if not url.startswith("sqlite"):
        db = Database(url)
        SQLModel.metadata.drop_all(db.engine)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.dispose()
    app = build_app(settings_for(url), clock=FakeClock(NOW))
    community = app.settings.community
    with UnitOfWork(app.db) as uow:
        staff = {m.id: uow.people.by_staff_id(m.id).id for m in community.members}
        residents = []
        for i in range(500):
            person = Person(name=f"居民{i}", created_at=NOW)
            uow.session.add(person)
            residents.append(person)
        uow.session.flush()
        resident_ids = [p.id for p in residents]
        uow.commit()
    rng = random.Random(16)
    grids = [(g.id, staff[g.member], g.buildings) for g in community.grids]
    requests, events, ratings = [], [], []
    engine = app.db.engine
    for number in range(1, n + 1):
        grid, member, buildings = rng.choice(grids)
        created = NOW - timedelta(days=365) * (1 - number / n) - timedelta(minutes=rng.randint(0, 600))
        respond_by, resolve_by = created + timedelta(hours=2), created + timedelta(days=2)
        roll = rng.random()
        state = "closed" if roll < 0.9 else "claimed" if roll < 0.95 else "assigned"
        if state == "assigned":  # overdue: filed long enough ago
            created = min(created, NOW - timedelta(days=3))
            respond_by, resolve_by = created + timedelta(hours=2), created + timedelta(days=2)
        claimed = created + timedelta(minutes=rng.randint(5, 180)) if state != "assigned" else None
        done = claimed + timedelta(hours=rng.randint(1, 40)) if state == "closed" else None
        score = rng.choice((5, 5, 5, 3, 1, None)) if state == "closed" else None
        reporter = rng.choice(resident_ids)
        requests.append(dict(id=number, kind="complaint", category=rng.choice(CATEGORIES), urgent=roll > 0.99,
                             building=rng.choice(buildings), unit=str(rng.randint(1, 4)), text=f"第{number}号反映：电梯又坏了",
                             evidence=[], language="zh-CN", reporter_id=reporter, channel="console",
                             source_chat="幸福里大群", source_kind="group", grid=grid, assignee_id=member, state=state,
                             level=0, respond_by=respond_by, resolve_by=resolve_by, responded_at=claimed, done_at=done,
                             rating_round=1 if done else 0, closed_at=done + timedelta(days=1) if done else None,
                             rating=score, created_at=created, updated_at=created))
        events.append(dict(request_id=number, at=created, actor_id=reporter, action="filed", data={}))
        events.append(dict(request_id=number, at=created, actor_id=None, action="assigned", data={}))
        if claimed:
            events.append(dict(request_id=number, at=claimed, actor_id=member, action="claimed", data={}))
        if done:
            events.append(dict(request_id=number, at=done, actor_id=member, action="done", note="已处理", data={}))
            events.append(dict(request_id=number, at=done + timedelta(days=1), actor_id=None, action="closed", data={}))
            if score:
                ratings.append(dict(request_id=number, person_id=reporter, score=score, round=1,
                                    at=done + timedelta(hours=3)))
        if len(requests) >= BATCH or number == n:
            with engine.begin() as connection:
                connection.execute(insert(Request), requests)
                connection.execute(insert(Event), events)
                if ratings:
                    connection.execute(insert(Rating), ratings)
            requests, events, ratings = [], [], []
    if not url.startswith("sqlite"):
        with engine.begin() as connection:
            connection.execute(text("SELECT setval('request_id_seq', (SELECT max(id) FROM request))"))
            connection.execute(text("ANALYZE"))
    app.db.dispose()


def signed_in(url: str):
    """The bot on this database and a client signed in as the secretary through a link the app made."""
    from fastapi.testclient import TestClient

    from bot.web.server import create_web_app

    app = build_app(settings_for(url), clock=FakeClock(NOW), migrate=False)
    with UnitOfWork(app.db) as uow:
        secretary = uow.people.by_staff_id(app.settings.community.first_with_role("secretary").id).id
    web = TestClient(create_web_app(app), base_url="http://127.0.0.1:8080")
    link = app.services.links.make(secretary, os.urandom(8).hex(), app.clock.now())
    assert web.get(link.removeprefix("http://127.0.0.1:8080")).status_code == 200
    return app, web


def timed(web, path: str, runs: int) -> list[float]:
    """Seconds each GET of a page took."""
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        response = web.get(path)
        found.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return found


def quantiles(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   ({len(ordered)} runs)"


def bench_pages(url: str) -> None:
    """The list under each filter in turn, and the figures page."""
    _, web = signed_in(url)
    csrf = web.cookies and web.get("/requests").text.split('name="csrf" value="')[1].split('"')[0]
    filters = [{}, {"state": "closed"}, {"category": "elevator", "grid": "east"}, {"overdue": "1"},
               {"urgent": "1", "since": "2026-06-01", "until": "2026-09-30"}, {"building": "5", "state": "claimed"},
               {"text": "第4242号"}]
    seconds = []
    for chosen in filters:
        web.post("/requests/filter", data={"csrf": csrf, **chosen})
        these = timed(web, "/requests", 15) + timed(web, "/requests?page_no=3", 15)
        print(f"    {str(chosen):<60} {quantiles(these)}")
        seconds += these
    print(f"  list page, {len(filters)} filters, pages 1 and 3:  {quantiles(seconds)}")
    print(f"  figures page:                          {quantiles(timed(web, '/figures', 20))}")


def export_only(url: str) -> None:
    """In a fresh process: the whole list as .xlsx; prints rows, seconds and peak RSS."""
    _, web = signed_in(url)
    before = _status("VmRSS")  # the bot itself (the intake model, SQLAlchemy, …) before the export begins
    started = time.perf_counter()
    size = 0
    with web.stream("GET", "/export.xlsx") as response:
        for chunk in response.iter_bytes():
            size += len(chunk)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  xlsx export of every row: {elapsed:6.1f} s, {size / 2**20:.1f} MiB file, peak RSS {peak:.0f} MiB "
          f"(the process held {before:.0f} MiB before it began: +{peak - before:.0f} MiB)")


def _status(field: str) -> float:
    """A memory figure of this process from /proc, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--export-only", metavar="URL")
    args = parser.parse_args()
    if args.export_only:
        export_only(args.export_only)
        return
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with tempfile.TemporaryDirectory() as folder:
        urls = {"sqlite": f"sqlite:///{folder}/bench-web.db", "postgres": pg}
        for name in (("sqlite", "postgres") if args.database == "both" else (args.database,)):
            started = time.perf_counter()
            fill(urls[name], args.n)
            took = time.perf_counter() - started
            print(f"{name}: {args.n:,} requests with their events, bulk-inserted in {took:.0f} s")
            bench_pages(urls[name])
            subprocess.run([sys.executable, __file__, "--export-only", urls[name]], check=True)


if __name__ == "__main__":
    main()
