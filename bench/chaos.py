"""Chaos at full size: the crash run (3,000 reports, 10 SIGKILLs, on SQLite and on PostgreSQL with two processes)
and the fuzz of the real dispatcher (50,000 messages), printing what went wrong; every figure should be 0.

The CI tests (tests/test_crash.py, tests/test_fuzz.py) run the same code at a size that fits CI.
PostgreSQL is TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test; its tables are
dropped) and is skipped where it does not answer.
Run: .venv/bin/python bench/chaos.py [REPORTS] [KILLS] [FUZZ_MESSAGES]
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Bot API and the fuzzer live with the tests


from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.clock import FakeClock  # noqa: E402
from tests.conftest import PG_URL, ROOT, local, pg_available  # noqa: E402
from tests.crash import CrashRun  # noqa: E402
from tests.fuzzing import fuzz as fuzz_app  # noqa: E402
from tests.test_reliability import Recorder  # noqa: E402
from tests.conftest import fresh_postgres  # noqa: E402


def shipped(workdir: Path) -> Settings:
    loaded = Settings.load(ROOT / "config.yaml", env={})
    return loaded.model_copy(update={"database_url": f"sqlite:///{workdir / 'doorstep.db'}",
                                     "spool_path": workdir / "doorstep-spool.jsonl"})


def crash(name: str, reports: int, kills: int, **options) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        run = CrashRun(Path(workdir), reports=reports, kills=kills, timeout=1800, **options)
        f = asyncio.run(run.run())
    print(f"crash {name}: {f.reports} reports, {f.kills} kills, {f.seconds:.0f} s: lost {f.lost}, filed twice "
          f"{f.filed_twice}, duplicate sends beyond one per kill {f.duplicate_sends_beyond_kills}, follow-ups fired "
          f"twice {f.followups_fired_twice}", flush=True)


def fuzz(name: str, count: int, settings: Settings) -> None:
    app = build_app(settings, clock=FakeClock(local(2026, 11, 23, 10, 0)), channels={"console": Recorder()})
    started = time.monotonic()
    try:
        tally = fuzz_app(app, count, derandomize=False)
    finally:
        app.db.dispose()
    print(f"fuzz {name}: {tally.messages} messages, {time.monotonic() - started:.0f} s: exceptions "
          f"{len(tally.exceptions)}, unanswered malformed commands {len(tally.unanswered)}, spooled "
          f"{len(tally.spooled)}, generic apologies {len(tally.apologies)}", flush=True)
    for kind in ("exceptions", "unanswered", "spooled", "apologies"):
        for example in getattr(tally, kind)[:5]:
            print(f"  {kind}: {example}")


def main() -> None:
    reports, kills, count = (int(a) for a in (sys.argv[1:] + ["3000", "10", "50000"][len(sys.argv) - 1:])[:3])
    postgres = pg_available()
    with tempfile.TemporaryDirectory() as workdir:
        fuzz("SQLite", count, shipped(Path(workdir)))
    if postgres:
        with tempfile.TemporaryDirectory() as workdir:
            fuzz("PostgreSQL", count, fresh_postgres(shipped(Path(workdir))))
    crash("SQLite, one process", reports, kills)
    if postgres:
        with tempfile.TemporaryDirectory() as workdir:
            fresh_postgres(shipped(Path(workdir)))
        crash("PostgreSQL, two processes", reports, kills, database_url=PG_URL, instances=2)
    else:
        print(f"PostgreSQL not reachable at {PG_URL}: skipped")


if __name__ == "__main__":
    main()
