"""Killed with SIGKILL while it works and restarted: a real `doorstep run` (two on PostgreSQL) files every report
once, fires no follow-up twice, and sends extra copies only of messages in flight when it died."""
from __future__ import annotations

import pytest

from tests.conftest import PG_URL, pg_available
from tests.crash import CrashRun
from tests.conftest import fresh_postgres


async def test_three_kills_during_300_reports_lose_nothing_and_repeat_nothing(tmp_path):
    figures = await CrashRun(tmp_path, reports=300, kills=3).run()
    assert figures.clean, figures


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason=f"PostgreSQL not reachable at {PG_URL}")
async def test_two_instances_on_postgres_killed_three_times_lose_nothing_and_repeat_nothing(tmp_path, settings):
    fresh_postgres(settings)
    figures = await CrashRun(tmp_path, database_url=PG_URL, instances=2, reports=300, kills=3).run()
    assert figures.clean, figures
