"""Benchmark: delivery under Telegram's limits, 300 reports from 6 groups in 30 s (issue 14, "Measured").

The bot runs as in production, in real time: python-telegram-bot long polling against tests/fake_telegram with
Telegram's limits enforced by the fake (20 a minute into a group, 30 a second overall; a send beyond them is
answered 429 and not delivered), and 10% random 429s and 5% random 502s on top; the adapter's pacing at its
defaults (3 s per group, 1 s per private chat); the APScheduler timers; a SQLite file. Six building groups, two
grid members on Telegram (three buildings each), one distinct report every 0.1 s, each from its own resident.
Times are the fake's: when a report was pushed to the bot, and when the fake accepted the message carrying it.

Printed: report → grid member's private notice (p50, p99; target ≤ 2 s, ≤ 10 s); report → group acknowledgement
(p50, p99) beside its floor, the best any sender could do under 20 a minute per group (the first 20 at once,
then each 60 s after the one 20 before it); the most messages accepted into one group in any 60 s (and how many
sends the fake refused for breaking a limit: the bot's pacing should leave none); messages out of order within
a chat (request numbers going back); reports lost (no acknowledgement or no notice) and duplicated (a request
announced twice in one chat).
Run: .venv/bin/python bench/delivery.py [REPORTS] [SECONDS]
"""
from __future__ import annotations

import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Bot API lives with the tests

import logging  # noqa: E402

from bot.app import build_app
from bot.channels.telegram import TelegramChannel, staff_chats
from bot.scheduler import make_scheduler
from bot.settings import TelegramSettings
from handlers.clock import SystemClock
from sqlmodel import select

from storage.models import Event
from storage.uow import UnitOfWork
from tests.fake_telegram import FakeBotApi, Limits
from tests.test_telegram import telegram_settings

GROUPS = 6
STAFF = {"li_jianguo": "1001", "zhang_wei": "1002", "liu_fang": "1003", "wang_qiang": "1004",
         "zhao_hongmei": "1005", "chen_zhiyuan": "1006", "sun_li": "1007", "property_desk": "1008"}
PROBLEMS = ("电梯坏了", "楼道灯不亮", "水管漏水", "垃圾没人清", "暖气不热", "门禁坏了", "噪音扰民", "墙皮脱落")
NUMBER = re.compile(r"诉求#(\d+)(?!\d)")


def six_groups(config: dict) -> None:
    """Buildings 1-6, one Telegram group each; staff on Telegram, so every notice goes out there."""
    config["chats"] = [{"id": f"b{b}", "name": f"{b}号楼业主群", "buildings": [b], "telegram": f"-100{b}",
                        "console": f"{b}号楼业主群"}
                       for b in range(1, GROUPS + 1)]
    for member in config["members"]:
        if member["id"] in STAFF:
            member["contacts"] = {"telegram": STAFF[member["id"]]}


def report(k: int, building: int) -> str:
    """The k-th report of a building: a distinct problem and unit, so none joins another."""
    return f"#报修 {building}号楼{1 + k // len(PROBLEMS)}单元{PROBLEMS[k % len(PROBLEMS)]}"


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))] if ordered else float("nan")


def floors(arrivals: list[float], per_minute: int) -> list[float]:
    """For one group's reports in order: the least latency any sender could give each acknowledgement under the
    group limit (a message may go when its report arrived, after the one before, and 60 s after the one
    `per_minute` before it)."""
    sent: list[float] = []
    for k, arrived in enumerate(arrivals):
        at = max(arrived, sent[-1] if sent else arrived, sent[k - per_minute] + 60 if k >= per_minute else arrived)
        sent.append(at)
    return [s - a for s, a in zip(sent, arrivals)]


def busiest_minute(times: list[float]) -> int:
    """The most of these moments inside any 60 s."""
    times, most, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 60:
            start += 1
        most = max(most, end - start + 1)
    return most


async def run(n: int, seconds: float, folder: Path) -> None:
    api = FakeBotApi()
    await api.start()
    api.enforce(Limits(random_429=0.10, random_502=0.05))
    settings = telegram_settings(folder, six_groups)
    channel = TelegramChannel("123:BENCH", TelegramSettings(enabled=True, base_url=api.base_url, poll_timeout=1),
                              staff_chats=staff_chats(settings.community))
    app = build_app(settings, clock=SystemClock(), channels={"telegram": channel})
    await channel.start(app.handle)
    scheduler = make_scheduler(app)
    scheduler.start()

    pushed: dict[str, float] = {}  # platform message id (chat:message) -> when the report was pushed
    lag_from: dict[str, float] = {}  # the same on the wall clock, to compare with when it was filed
    by_group: dict[str, list[float]] = defaultdict(list)
    start = time.monotonic()
    for i in range(n):
        building = 1 + i % GROUPS
        chat = {"id": -1000 - building, "type": "supergroup", "title": f"{building}号楼业主群"}
        resident = {"id": 50_000 + i, "is_bot": False, "first_name": f"居民{i}"}
        await asyncio.sleep(max(0.0, start + i * seconds / n - time.monotonic()))
        message_id = await api.say(resident, chat, report(i // GROUPS, building))
        pushed[f"{chat['id']}:{message_id}"] = time.monotonic()
        lag_from[f"{chat['id']}:{message_id}"] = time.time()
        by_group[str(chat["id"])].append(pushed[f"{chat['id']}:{message_id}"])

    grid_chats = {STAFF["li_jianguo"], STAFF["zhang_wei"]}

    def seen() -> tuple[dict[int, float], dict[int, float]]:
        acks, notices = {}, {}
        for sent in api.sent.values():
            target = notices if sent.chat_id in grid_chats else acks if sent.chat_id.startswith("-") else None
            if target is not None:
                for number in NUMBER.findall(sent.text):
                    target.setdefault(int(number), sent.at)
        return acks, notices

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        acks, notices = seen()
        if len(acks) >= n and len(notices) >= n:
            break
        await asyncio.sleep(0.5)
    elapsed = time.monotonic() - start
    scheduler.shutdown(wait=False)
    await app.sender.stop()
    await channel.stop()
    await api.stop()

    with UnitOfWork(app.db) as uow:  # which report became which request, and when
        events = list(uow.session.exec(select(Event).where(Event.action == "filed")))
    filed = {e.request_id: e.data["message_id"] for e in events}
    handling = [e.at.timestamp() - lag_from[e.data["message_id"]] for e in events]
    app.db.dispose()
    acks, notices = seen()
    notice_lat = [notices[r] - pushed[m] for r, m in filed.items() if r in notices]
    ack_lat = [acks[r] - pushed[m] for r, m in filed.items() if r in acks]
    floor = [f for arrivals in by_group.values() for f in floors(arrivals, 20)]
    per_chat: dict[str, list] = defaultdict(list)
    for sent in sorted(api.sent.values(), key=lambda s: s.at):
        per_chat[sent.chat_id].append(sent)
    out_of_order = sum(1 for chat in per_chat.values() for before, after in zip(chat, chat[1:])
                       if NUMBER.findall(before.text) and NUMBER.findall(after.text)
                       and min(map(int, NUMBER.findall(after.text))) < max(map(int, NUMBER.findall(before.text))))
    announced = defaultdict(int)
    for sent in api.sent.values():
        for number in set(NUMBER.findall(sent.text)):
            announced[(sent.chat_id, number)] += 1
    duplicated = sum(count - 1 for count in announced.values())
    lost = sum(1 for r in filed if r not in acks or r not in notices) + (n - len(filed))
    group_minutes = {chat: busiest_minute([s.at for s in sends]) for chat, sends in per_chat.items()
                     if chat.startswith("-")}
    private_messages = sum(len(sends) for chat, sends in per_chat.items() if chat in grid_chats)

    print(f"{n} reports from {GROUPS} Telegram groups in {seconds:.0f} s through the fake Bot API with Telegram's "
          f"limits (20/min per group, 30/s overall), 10% random 429s, 5% random 502s; done in {elapsed:.0f} s")
    print(f"filed {len(filed)}; sends tried {sum(api.attempts.values())}, accepted {len(api.sent)}; report → filed "
          f"(the bot's handling, before any sending) p50 {pct(handling, 50):.2f} s, p99 {pct(handling, 99):.2f} s")
    print(f"report → grid member's private notice: p50 {pct(notice_lat, 50):.2f} s, p99 {pct(notice_lat, 99):.2f} s "
          f"(target ≤ 2 s, ≤ 10 s); {n} notices in {private_messages} private messages")
    print(f"report → group acknowledgement:        p50 {pct(ack_lat, 50):.1f} s, p99 {pct(ack_lat, 99):.1f} s "
          f"(floor under 20/min per group: p50 {pct(floor, 50):.1f} s, p99 {pct(floor, 99):.1f} s)")
    print(f"most messages into one group in any minute: {max(group_minutes.values())} (limit 20); "
          f"sends refused for breaking a limit: {sum(api.over_limit.values())}")
    print(f"out of order within a chat: {out_of_order}; lost: {lost}; duplicated: {duplicated}")
    print("per group, messages in its busiest minute: "
          + ", ".join(f"{c} {m}" for c, m in sorted(group_minutes.items())))


def main() -> None:
    # Each 429 and 502 is logged by PTB and the outbox with a traceback; what matters here is the summary.
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("telegram").setLevel(logging.CRITICAL)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(n, seconds, Path(folder)))


if __name__ == "__main__":
    main()
