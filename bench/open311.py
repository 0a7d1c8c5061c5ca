"""Benchmark: the Open311 requests.json over 100,000 requests (and their events), in SQLite and in PostgreSQL.

Requests are bulk-inserted, spread over a year, in every state and category; then requests.json is asked through
real ASGI (httpx) for its default (the last 90 days, 1,000 requests), a filtered list, and 100 numbers.
Prints p50/p99 per query with the database and the row count; the target is 300 ms at p99 for 1,000 requests.
PostgreSQL is TEST_DATABASE_URL (default .../test, emptied first), skipped when it does not answer.
Run: .venv/bin/python bench/open311.py [N] [--sqlite-only]
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, text
from sqlmodel import SQLModel

from bot.app import build_app
from bot.settings import Settings
from bot.web.open311 import open311_router
from handlers.clock import FakeClock, SystemClock
from storage.db import Database
from storage.models import Event, Person, Request
from storage.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
STATES = ("assigned", "claimed", "done", "closed", "closed", "closed", "reopened", "merged", "withdrawn", "rejected")
GRIDS = {b: g for g, bs in (("east", "123"), ("middle", "456"), ("west", "789")) for b in bs}
RUNS = 100
QUERIES = {
    "default (90 days)": "",
    "open elevator+plumbing": "?status=open&service_code=elevator,plumbing&start_date=2020-01-01T00:00:00Z",
    "100 numbers": "?service_request_id=" + ",".join(str(n) for n in range(1, 100_000, 1000)),
}


def fill(app, n: int) -> None:
    """n requests over the year before now, with a filed and an assigned event each, in batches."""
    now = app.clock.now()
    categories = list(app.settings.community.categories)
    with UnitOfWork(app.db) as uow:
        reporter = Person(name="居民", created_at=now)
        uow.session.add(reporter)
        uow.session.flush()
        reporter_id = reporter.id
        uow.commit()
    batch = 5000
    for start in range(0, n, batch):
        requests, events = [], []
        for i in range(start, min(start + batch, n)):
            at = now - timedelta(days=365) * (1 - i / n)  # the newest last, as they were filed
            building = str(1 + i % 9)
            requests.append({
                "id": i + 1, "kind": "complaint", "category": categories[i % len(categories)],
                "urgent": i % 50 == 0, "building": building, "unit": str(1 + i % 4), "room": f"{1 + i % 20}02",
                "text": f"#投诉 {building}号楼电梯又坏了 {i}", "evidence": [], "language": "zh-CN",
                "reporter_id": reporter_id, "channel": "console", "source_chat": "幸福里大群",
                "source_kind": "group", "grid": GRIDS[building], "state": STATES[i % len(STATES)], "level": i % 3,
                "respond_by": at + timedelta(hours=2), "resolve_by": at + timedelta(days=2),
                "created_at": at, "updated_at": at + timedelta(hours=1), "rating_round": 0})
            events += [{"request_id": i + 1, "at": at, "action": "filed", "data": {}},
                       {"request_id": i + 1, "at": at, "action": "assigned", "data": {}}]
        with app.db.engine.begin() as connection:
            connection.execute(insert(Request.__table__), requests)
            connection.execute(insert(Event.__table__), events)
    with app.db.engine.begin() as connection:
        if app.db.engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('request_id_seq', (SELECT max(id) FROM request))"))
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))


async def measure(app) -> None:
    """Ask each query RUNS times after a warm-up; print p50/p99 and how many requests came back."""
    web = FastAPI()
    web.include_router(open311_router(app))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://bench") as client:
        for name, query in QUERIES.items():
            url = f"/open311/v2/requests.json{query}"
            for _ in range(3):
                (await client.get(url)).raise_for_status()
            latencies = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - t0)
            response.raise_for_status()
            ordered = sorted(latencies)
            p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
            print(f"  {name:<24} {len(response.json()):5d} returned   p50 {statistics.median(ordered) * 1000:7.1f} ms"
                  f"   p99 {p99 * 1000:7.1f} ms")


def run(url: str, n: int, label: str) -> None:
    settings = Settings.load(ROOT / "config.yaml", env={}).model_copy(update={"database_url": url})
    app = build_app(settings, clock=FakeClock(SystemClock().now()), channels={})
    started = time.perf_counter()
    fill(app, n)
    with app.db.engine.connect() as connection:
        rows = connection.execute(text("select count(*) from request")).scalar()
        events = connection.execute(text("select count(*) from event")).scalar()
    print(f"{label}: {rows:,} requests, {events:,} events (inserted in {time.perf_counter() - started:.1f} s)")
    asyncio.run(measure(app))
    app.db.dispose()


def empty_postgres() -> bool:
    """Drop every table of the PostgreSQL bench database; False when it does not answer."""
    try:
        db = Database(PG_URL)
        SQLModel.metadata.drop_all(db.engine)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.dispose()
        return True
    except Exception as error:  # no server: say so and measure SQLite only
        print(f"PostgreSQL at {PG_URL} not reachable ({type(error).__name__}); skipped")
        return False


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 100_000
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'bench.db'}", n, "SQLite")
    if "--sqlite-only" not in sys.argv and empty_postgres():
        run(PG_URL, n, "PostgreSQL")


if __name__ == "__main__":
    main()
