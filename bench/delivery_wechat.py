"""Benchmark, WeChat half of bench/delivery.py: reports through the WeChat test gateway at the configured pace.

The bot runs as in production, in real time, against tests/wechat_gateway (npm wechaty-puppet-service serving
wechaty-puppet-mock): the shipped config's WeChat pace (channels.wechat: 3 s between two messages to one chat, 20 a
minute over all chats), the APScheduler timers, a SQLite file, and the console beside WeChat. Residents report in
the 3号楼 room, one every SECONDS/N s; halfway the bot is stopped and started again on the same database (an
ordinary restart: the new process must neither resend what went nor break the pace), and a console line is typed
while WeChat has its backlog. The gateway stamps each message the bot sends.

Printed: report → grid member's notice and → room acknowledgement (p50, p99); the smallest gap between two messages
to one chat (limit per_chat_gap) and between any two messages (60 / per_minute), both as the gateway stamped them
on arrival (a few ms of jitter either way), the most messages in any minute overall and per chat (limit
per_minute), how long the restart and the console line took, out of order, lost, duplicated.
Run: .venv/bin/python bench/delivery_wechat.py [REPORTS] [SECONDS]
"""
from __future__ import annotations

import asyncio
import io
import logging
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the gateway lives with the tests

from sqlmodel import select  # noqa: E402

from bench.delivery import NUMBER, PROBLEMS, busiest_minute, pct
from bot.app import build_app
from bot.cli import SEND_GRACE
from bot.channels.console import ConsoleChannel, ConsoleSession
from bot.channels.wechat import WeChatChannel
from bot.scheduler import make_scheduler
from handlers.clock import SystemClock
from storage.models import Event
from storage.uow import UnitOfWork
from tests.test_wechat import wechat_settings
from tests.wechat_gateway import AUNT, LI, ROOM, STRANGER, Gateway

RESIDENTS = (AUNT, STRANGER)


class Running:
    """One bot process: WeChat and the console, the timers, the outbox."""

    def __init__(self, gateway: Gateway, settings) -> None:
        pace = settings.channels.wechat.model_copy(update={"login_timeout": 15.0, "retry_first": 0.2,
                                                           "retry_max": 1.0})
        self.wechat = WeChatChannel(gateway.endpoint, gateway.token, pace)
        self.console = ConsoleChannel(io.StringIO())
        self.app = build_app(settings, clock=SystemClock(), channels={"wechat": self.wechat, "console": self.console})
        self.scheduler = make_scheduler(self.app)

    async def start(self) -> None:
        await self.wechat.start(self.app.handle)
        assert await asyncio.to_thread(self.wechat.wait_online, 20), "WeChat did not log in"
        self.scheduler.start()

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        await self.app.sender.stop(grace=SEND_GRACE)
        await self.wechat.stop()
        self.app.db.dispose()


async def run(n: int, seconds: float, folder: Path) -> None:
    gateway = Gateway()
    gateway.start()
    settings = wechat_settings(folder)
    pace = settings.channels.wechat
    bot = Running(gateway, settings)
    await bot.start()
    pushed: dict[str, float] = {}
    start, console_took, restart = time.time(), None, (0.0, 0.0)
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i * seconds / n - time.time()))
        if i == n // 2:  # halfway: a restart, then a line typed at the console while WeChat has its backlog
            restart = time.time()
            await bot.stop()
            bot = Running(gateway, settings)
            await bot.start()
            restart = (restart - start, time.time() - restart)
            session = ConsoleSession(bot.app, bot.console, speaker="张大爷", chat="8号楼业主群", echo=False)
            typed = time.time()
            await session.line("#投诉 8号楼路灯不亮")
            console_took = time.time() - typed
        text = f"#投诉 3号楼{1 + i // len(PROBLEMS)}单元{PROBLEMS[i % len(PROBLEMS)]}"
        message_id = await gateway.say(RESIDENTS[i % len(RESIDENTS)], text, room=ROOM)
        pushed[message_id] = time.time()

    def seen(sent: list[dict]) -> tuple[dict[int, float], dict[int, float]]:
        acks, notices = {}, {}
        for m in sent:
            target = acks if m["conversationId"] == ROOM["id"] else notices if m["conversationId"] == LI["id"] else None
            for number in NUMBER.findall(m["text"]) if target is not None else ():
                target.setdefault(int(number), m["at"] / 1000)
        return acks, notices

    deadline = time.time() + 600
    while time.time() < deadline:
        acks, notices = seen(await gateway.sent())
        if len(acks) >= n and len(notices) >= n:
            break
        await asyncio.sleep(0.5)
    elapsed = time.time() - start
    sent = await gateway.sent()
    with UnitOfWork(bot.app.db) as uow:
        events = list(uow.session.exec(select(Event).where(Event.action == "filed")))
    await bot.stop()
    gateway.kill()

    filed = {e.request_id: e.data["message_id"] for e in events if e.data["message_id"] in pushed}
    acks, notices = seen(sent)
    ack_lat = [acks[r] - pushed[m] for r, m in filed.items() if r in acks]
    notice_lat = [notices[r] - pushed[m] for r, m in filed.items() if r in notices]
    times = sorted(m["at"] / 1000 for m in sent)
    per_chat: dict[str, list[dict]] = defaultdict(list)
    for m in sorted(sent, key=lambda m: m["at"]):
        per_chat[m["conversationId"]].append(m)
    chat_gaps = {chat: min((b["at"] - a["at"]) / 1000 for a, b in zip(ms, ms[1:])) for chat, ms in per_chat.items()
                 if len(ms) > 1}
    out_of_order = sum(1 for ms in per_chat.values() for a, b in zip(ms, ms[1:])
                       if NUMBER.findall(a["text"]) and NUMBER.findall(b["text"])
                       and min(map(int, NUMBER.findall(b["text"]))) < max(map(int, NUMBER.findall(a["text"]))))
    announced = defaultdict(int)
    for m in sent:
        for number in set(NUMBER.findall(m["text"])):
            announced[(m["conversationId"], number)] += 1
    print(f"{n} reports in the WeChat room in {seconds:.0f} s through the WeChat test gateway at the configured pace "
          f"({pace.per_chat_gap:.0f} s per chat, {pace.per_minute} a minute), a restart and a console line halfway; "
          f"done in {elapsed:.0f} s")
    print(f"report → grid member's notice: p50 {pct(notice_lat, 50):.1f} s, p99 {pct(notice_lat, 99):.1f} s; "
          f"{len(notices)} notices in {len(per_chat[LI['id']])} messages")
    print(f"report → room acknowledgement: p50 {pct(ack_lat, 50):.1f} s, p99 {pct(ack_lat, 99):.1f} s")
    print(f"smallest gap between two messages: any {min(b - a for a, b in zip(times, times[1:])):.2f} s "
          f"(limit {60 / pace.per_minute:.2f}); per chat " + ", ".join(f"{c} {g:.2f} s" for c, g in chat_gaps.items())
          + f" (limit {pace.per_chat_gap:.2f})")
    print(f"most messages in any minute: all chats {busiest_minute(times)} (limit {pace.per_minute}); per chat "
          + ", ".join(f"{c} {busiest_minute([m['at'] / 1000 for m in ms])}" for c, ms in per_chat.items()))
    print("messages per minute from the start: " + " ".join(
        str(sum(1 for t in times if start + 60 * k <= t < start + 60 * (k + 1))) for k in range(int(elapsed // 60) + 1)))
    print(f"restarted at {restart[0]:.0f} s, WeChat logged in again {restart[1]:.1f} s later (nothing sent meanwhile); "
          f"the console line then took {console_took:.2f} s while WeChat had its backlog")
    lost = sum(1 for r in filed if r not in acks or r not in notices) + (n - len(filed))
    print(f"out of order within a chat: {out_of_order}; lost: {lost}; "
          f"duplicated: {sum(c - 1 for c in announced.values())}")


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(n, seconds, Path(folder)))


if __name__ == "__main__":
    main()
