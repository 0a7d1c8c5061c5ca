"""Crash runs: real `doorstep run` processes fed reports through the fake Bot API and killed with SIGKILL while
they work, then restarted; what the database and the fake recorded tells what was lost or done twice.

Shared by tests/test_crash.py (300 reports, 3 kills) and bench/chaos.py (3,000 reports, 10 kills). Every wait is
on a condition (what the fake saw, what the database holds), bounded by a timeout.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.fake_telegram import FakeBotApi
from tests.test_telegram import telegram_settings

GROUPS = 50  # reports are spread over this many groups: Telegram allows 20 messages a minute in one group
FOLLOWED_UP = 10  # every tenth report is a broken lift, answered within seconds, so its follow-ups fire in the run


def report(i: int) -> str:
    """A distinct report each time (its own building and unit), so each is filed anew."""
    problem = "电梯坏了，按钮没反应" if i % FOLLOWED_UP == 0 else "楼道水管漏水"
    return f"#报修 {1 + i % 999}号楼{1 + i // 999 % 9}单元{problem}"


def crash_config(tmp_path: Path, base_url: str) -> Path:
    """The shipped config on Telegram (the fake's), one grid for every building (李建国's, on Telegram), a lift
    answered within 4 s and reminded after 2 s, a sweep every second, no quiet hours and no console."""
    def edit(data: dict) -> None:
        for grid in data["grids"]:
            grid["buildings"] = list(range(1, 1000)) if grid["member"] == "li_jianguo" else []
        data["categories"]["elevator"].update(respond="4s", urgent_respond="4s")
        data["schedule"].update(remind_before="2s", sweep_every="1s")
        data["quiet_hours"] = {"start": "00:00", "end": "00:00"}
        # The groups reports come from are the community's (a group in no config files nothing); each names its
        # building in the report, so they stand for none in particular.
        data["chats"] += [{"id": f"crash{g}", "name": f"楼群{g}", "buildings": [], "telegram": str(-2000 - g)}
                          for g in range(GROUPS)]
        data["channels"] = {"console": {"enabled": False},
                            "telegram": {"enabled": True, "base_url": base_url, "poll_timeout": 1,
                                         "per_chat_gap": 0, "per_group_gap": 0}}
    telegram_settings(tmp_path, edit)
    return tmp_path / "config.yaml"


@dataclass
class Figures:
    """What a crash run found; every figure but `reports`, `kills` and `seconds` should be 0."""

    reports: int
    kills: int
    lost: int
    filed_twice: int
    duplicate_sends_beyond_kills: int
    followups_fired_twice: int
    seconds: float

    @property
    def clean(self) -> bool:
        return not (self.lost or self.filed_twice or self.duplicate_sends_beyond_kills or self.followups_fired_twice)


class CrashRun:
    """`instances` bot processes on one database, fed `reports` reports, with `kills` SIGKILLs spread over them."""

    def __init__(self, tmp_path: Path, *, database_url: str | None = None, instances: int = 1,
                 reports: int = 300, kills: int = 3, timeout: float = 240) -> None:
        self.tmp_path, self.instances, self.reports, self.kills = tmp_path, instances, reports, kills
        self.timeout = timeout
        self.database_url = database_url or f"sqlite:///{tmp_path / 'doorstep.db'}"
        self.api = FakeBotApi()
        self.processes: list[asyncio.subprocess.Process] = []

    async def run(self) -> Figures:
        """Feed every report, killing a process after each share of them, and wait until all are done."""
        started = time.monotonic()
        await self.api.start()
        self.config = crash_config(self.tmp_path, self.api.base_url)
        try:
            for _ in range(self.instances):
                await self._start()
            shares = self.kills + 1
            for share in range(shares):
                first, last = self.reports * share // shares, self.reports * (share + 1) // shares
                for i in range(first, last):
                    group = {"id": -2000 - i % GROUPS, "type": "supergroup", "title": f"楼群{i % GROUPS}"}
                    user = {"id": 5000 + i, "is_bot": False, "first_name": f"居民{i}"}
                    await self.api.say(user, group, report(i))
                if share < self.kills:  # kill while it works: once part of this share is acknowledged
                    await self._until(lambda: self._filed() >= (first + last) // 2)
                    await self._kill_and_restart(share % self.instances)
            await self._until(self._settled)
            return self._figures(time.monotonic() - started)
        finally:
            for process in self.processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            await self.api.stop()

    async def _start(self, slot: int | None = None) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": "123:CRASH", "PYTHONPATH": str(ROOT)}
        env.pop("DATABASE_URL", None)
        if not self.database_url.startswith("sqlite"):
            env["DATABASE_URL"] = self.database_url
        log = (self.tmp_path / "bot.log").open("a")
        polls = len(self.api.calls_of("getUpdates"))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(self.config), "--no-dev",
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=self.tmp_path)
        if slot is None:
            self.processes.append(process)
        else:
            self.processes[slot] = process
        await self._until(lambda: len(self.api.calls_of("getUpdates")) > polls)  # it is receiving

    async def _kill_and_restart(self, slot: int) -> None:
        process = self.processes[slot]
        process.send_signal(signal.SIGKILL)
        await process.wait()
        await self._start(slot)

    async def _until(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {self.timeout} s; see {self.tmp_path / 'bot.log'}")
            await asyncio.sleep(0.05)

    # -- what the database holds ---------------------------------------------------------------------------

    def _query(self, sql: str) -> list:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql)))
        except Exception:  # not migrated yet
            return []
        finally:
            engine.dispose()

    def _filed(self) -> int:
        rows = self._query("select count(*) from request")
        return rows[0][0] if rows else 0

    def _settled(self) -> bool:
        """Every report filed, every lift's reminder and escalation fired (or passed), nothing due left unsent.

        Rows leased by a killed process wait out their lease (a minute) and are not waited for: they were taken
        for sending, and at most one of them was in flight. Later rows of the same chat wait behind them."""
        if self._filed() < self.reports:
            return False
        escalated = sum(action == "escalated" for _, action in self._followups_fired())
        if escalated < len(range(0, self.reports, FOLLOWED_UP)):
            return False
        # A reminder the bot was down for until its deadline passes is skipped (the escalation speaks instead).
        if self._query("select count(*) from followup where kind = 'remind_respond' and status = 'pending' and "
                       "request_id in (select id from request where category = 'elevator')")[0][0]:
            return False
        return self._query("select count(*) from outbox o where status = 'pending' and channel = 'telegram' and "
                           "not exists (select 1 from outbox e where e.channel = o.channel and e.chat_id = o.chat_id "
                           "and e.id < o.id and e.status = 'sending')")[0][0] == 0

    def _followups_fired(self) -> Counter:
        return Counter((request, action) for request, action in self._query(
            "select request_id, action from event where action in ('reminded', 'escalated')"))

    def _figures(self, seconds: float) -> Figures:
        filed = Counter(self._filed_message_ids())
        sent = Counter((params["chat_id"], params["text"]) for params in self.api.calls_of("sendMessage"))
        fired = self._followups_fired()
        return Figures(
            reports=self.reports, kills=self.kills,
            lost=self.reports - len(filed),
            filed_twice=sum(count - 1 for count in filed.values()),
            duplicate_sends_beyond_kills=max(0, sum(count - 1 for count in sent.values()) - self.kills),
            followups_fired_twice=sum(count - 1 for count in fired.values()),
            seconds=seconds)

    def _filed_message_ids(self) -> list[str]:
        return [(data if isinstance(data, dict) else json.loads(data)).get("message_id")
                for (data,) in self._query("select data from event where action = 'filed'")]
