"""Benchmark: the digest and the lists on 10k, 100k and 1M requests of history, on SQLite and PostgreSQL.

History is bulk-inserted by tests/history.py into a database migrated to head, its indexes dropped for the load
and rebuilt after it: people, requests and followers from Python (executemany on SQLite, COPY on PostgreSQL), what
each request left behind (timeline, rating, follow-ups, sent outbox rows, ledger entries) by INSERT … SELECT in the
database, then ANALYZE (VACUUM ANALYZE on PostgreSQL). 90% closed, 5% open in time, 5% overdue, 1,000 requests a
day. SQLite files are cached as .cache/scale/sqlite-<size>.db and copied before each run (which files reports into
the copy); delete .cache/scale to build again after changing tests/history.py. PostgreSQL (TEST_DATABASE_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/test, whose tables are replaced) is rebuilt unless it holds
that history already. Each size is built in one process and measured in another, so peak RSS is the bot's own.

Prints, per backend and size: the digest's wall and CPU time (target ≤ 1 s at 1M) and length (≤ 60 lines, ≤ 4,096
characters); `我的` for the busiest grid member and for the secretary (p50 ≤ 50 ms, ≤ 2,000 characters) and a
resident's `我的诉求`; filing p50/p99 alone, then while digests run back to back in a worker thread (p99 ≤ 50 ms,
nothing spooled); peak RSS (≤ 200 MB).
Run: .venv/bin/python bench/scale.py [10k] [100k] [1M] [--sqlite | --postgres]   (default: 10k 100k)
"""
from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the history builder lives with the tests

from sqlalchemy import text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.clock import FakeClock  # noqa: E402
from handlers.messages import Inbound  # noqa: E402
from tests.conftest import PG_URL, local, pg_available  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.history import ask, build  # noqa: E402

CACHE = ROOT / ".cache" / "scale"
NOW = local(2026, 11, 23, 10, 0)
SIZES = {"10k": 10_000, "30k": 30_000, "100k": 100_000, "1m": 1_000_000}
FILED = 300  # reports filed while the digest runs


def app_on(url: str, migrate: bool = True):
    settings = Settings.load(ROOT / "config.yaml", env={}).model_copy(
        update={"database_url": url, "spool_path": CACHE / "bench-spool.jsonl"})
    return build_app(settings, clock=FakeClock(NOW), channels={}, migrate=migrate)


def prepare(backend: str, n: int, *, work: bool = True) -> str:
    """The database URL holding n requests of history, built (or taken from the cache) in this process; on
    SQLite a working copy of the cached file, unless not `work`."""
    CACHE.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        cached = CACHE / f"sqlite-{n}.db"
        if not cached.exists() and work:
            raise SystemExit(f"{cached} is not built")
        if not cached.exists():
            partial = cached.with_suffix(".building")
            for leftover in CACHE.glob(partial.name + "*"):
                leftover.unlink()
            app = app_on(f"sqlite:///{partial}")
            started = time.perf_counter()
            build(app.db, app.settings.community, n, NOW)
            app.db.dispose()
            partial.rename(cached)
            print(f"  built sqlite {n:,} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        copy = CACHE / "work.db"
        for old in CACHE.glob("work.db*"):
            old.unlink()
        if work:
            shutil.copy(cached, copy)
        return f"sqlite:///{copy}"
    db = Database(PG_URL)
    with db.engine.connect() as connection:
        try:
            held = connection.execute(text("SELECT count(*) FROM request WHERE id <= :n"), {"n": n}).scalar() == n
            held = held and connection.execute(text("SELECT count(*) FROM outbox WHERE request_id = :n"),
                                               {"n": n}).scalar() == 3  # built here, with every kind of row
            held = held and connection.execute(text("SELECT count(*) FROM request WHERE id > :n"),
                                               {"n": n}).scalar() < 20 * FILED  # a few runs' reports, no more
        except Exception:
            held = False
    db.dispose()
    if not held and work:
        raise SystemExit(f"{PG_URL} lost its history between building and measuring (a test run on it?)")
    if not held:
        SQLModel.metadata.drop_all(Database(PG_URL).engine)
        with Database(PG_URL).engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        app = app_on(PG_URL)
        started = time.perf_counter()
        build(app.db, app.settings.community, n, NOW)
        print(f"  built postgres {n:,} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        app.db.dispose()
    return PG_URL


def measure(url: str) -> dict:
    """Every figure for one database, in this process."""
    app = app_on(url)
    figures = {"rss_start_mb": _rss()}
    runs = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        digest = app.digest_text()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    figures.update(digest_wall_s=runs[0][0], digest_cpu_s=runs[0][1], digest_wall_warm_s=min(r[0] for r in runs),
                   digest_lines=len(digest.splitlines()), digest_chars=len(digest))
    with app.db.engine.connect() as connection:
        busiest = connection.execute(text(
            "SELECT p.name FROM request r JOIN person p ON p.id = r.assignee_id WHERE r.state IN "
            "('new', 'assigned', 'claimed', 'reopened', 'done') GROUP BY p.name ORDER BY count(*) DESC LIMIT 1")).scalar()
    for who, label in ((busiest, "member"), ("赵书记", "secretary"), ("r60", "resident")):
        times, answer = [], ""
        for _ in range(20):
            started = time.perf_counter()
            answer = ask(app, who, "我的诉求" if label == "resident" else "我的")
            times.append(time.perf_counter() - started)
        figures[f"mine_{label}_p50_ms"] = statistics.median(times) * 1000
        figures[f"mine_{label}_chars"] = len(answer)
    figures["busiest"] = busiest
    figures.update(_filing_during_digest(app))
    figures["rss_peak_mb"] = _rss()
    app.db.dispose()
    return figures


def _file(app, count: int, tag: str) -> list[float]:
    """File `count` distinct reports from residents in the big group; their latencies in seconds."""
    latencies = []
    for i in range(count):
        building, unit = 1 + i % 9, 5 + i // 9 % 5  # units the history has none in: filed anew, not linked
        message = Inbound(channel="console", chat_id="幸福里大群", chat_kind="group", sender_id=f"r{100 + i}",
                          sender_name=f"居民{100 + i}", text=f"#投诉 {building}号楼{unit}单元楼道灯不亮{tag}{i}",
                          message_id=f"scale-{tag}-{time.time_ns()}-{i}", sender_chat=f"r{100 + i}")
        started = time.perf_counter()
        app.handle(message)
        latencies.append(time.perf_counter() - started)
    return sorted(latencies)


def _filing_during_digest(app) -> dict:
    """File reports alone, then while digests are computed back to back in a worker thread (as the timer runs the
    digest: its own thread and session), the harshest overlap there can be."""
    alone = _file(app, FILED // 2, "alone")
    stop, digests = threading.Event(), []

    def digest_loop() -> None:
        while not stop.is_set():
            app.digest_text()
            digests.append(1)

    worker = threading.Thread(target=digest_loop)
    worker.start()
    try:
        during = _file(app, FILED, "during")
    finally:
        stop.set()
        worker.join()
    p = lambda xs, q: xs[int(len(xs) * q) - 1] * 1000  # noqa: E731
    return {"alone_p50_ms": p(alone, 0.5), "alone_p99_ms": p(alone, 0.99), "file_p50_ms": p(during, 0.5),
            "file_p99_ms": p(during, 0.99), "spooled": app.spool.waiting, "digests_meanwhile": len(digests)}


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(backend: str, size: str, what: str) -> None:
    """Build (or reuse) one database, or measure it and print its figures as one JSON line: in separate
    processes, so the measuring one's peak RSS is the bot's, not the builder's."""
    url = prepare(backend, SIZES[size], work=what == "measure")
    if what == "measure":
        print(json.dumps(measure(url)))


def main(args: list[str]) -> None:
    sizes = [a.lower() for a in args if not a.startswith("--")] or ["10k", "100k"]
    backends = ["sqlite", "postgres"]
    if "--sqlite" in args:
        backends = ["sqlite"]
    if "--postgres" in args:
        backends = ["postgres"]
    if "postgres" in backends and not pg_available():
        print(f"PostgreSQL not reachable at {PG_URL}: skipped")
        backends.remove("postgres")
    for size in sizes:
        if size not in SIZES:
            raise SystemExit(f"unknown size {size!r}: one of {', '.join(SIZES)}")
    for backend in backends:
        for size in sizes:
            subprocess.run([sys.executable, __file__, "--child", backend, size, "build"], cwd=ROOT)
            done = subprocess.run([sys.executable, __file__, "--child", backend, size, "measure"],
                                  capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                print(f"{backend} {size}: failed\n{done.stderr[-3000:]}")
                continue
            f = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{backend} {size}: digest {f['digest_wall_s']:.3f} s wall / {f['digest_cpu_s']:.3f} s CPU "
                  f"(warm {f['digest_wall_warm_s']:.3f} s), {f['digest_lines']} lines, {f['digest_chars']} chars; "
                  f"我的 {f['busiest']} p50 {f['mine_member_p50_ms']:.1f} ms, {f['mine_member_chars']} chars; "
                  f"secretary p50 {f['mine_secretary_p50_ms']:.1f} ms, {f['mine_secretary_chars']} chars; "
                  f"a resident's 我的诉求 p50 {f['mine_resident_p50_ms']:.1f} ms; "
                  f"filing alone p50 {f['alone_p50_ms']:.1f} / p99 {f['alone_p99_ms']:.1f} ms, "
                  f"during digests p50 {f['file_p50_ms']:.1f} / p99 {f['file_p99_ms']:.1f} ms, "
                  f"spooled {f['spooled']} ({f['digests_meanwhile']} digests meanwhile); "
                  f"peak RSS {f['rss_peak_mb']:.0f} MB (after start-up {f['rss_start_mb']:.0f} MB)", flush=True)
    jobs = ROOT / "bench" / "scale_jobs.py"
    if jobs.exists():
        print(f"Follow-ups, pruning and two instances: .venv/bin/python {jobs.relative_to(ROOT)} (see its docstring)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:5])
    else:
        main(sys.argv[1:])
