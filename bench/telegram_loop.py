"""Benchmark: N group reports through the fake Bot API into the running bot, beside bare PTB bots.

All bots run python-telegram-bot with long polling against the same in-process fake server (tests/fake_telegram),
with Telegram's pacing switched off (the fake has no limits; pacing would measure Telegram, not the bot):
    echo bot       answers each update with one sendMessage and stores nothing (the issue's yardstick)
    two-message    answers in the group and sends one private message, stores nothing: the least any bot can do
                   that acknowledges a report and notifies a grid member, which every doorstep report needs
    doorstep       files, routes and acknowledges each report in the group; its outbox also sends the notice
A bot is done with an update when its group reply is sent; each run ends only when every message it owes is
sent, and is timed after a warm-up of WARM_UP updates. Rounds alternate the bots, since this shared machine's speed swings from one minute to the next; the
median of the rounds is printed, with CPU milliseconds per update (the fake server's included), which swing less.
Run: .venv/bin/python bench/telegram_loop.py [N] [ROUNDS]
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Bot API lives with the tests

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.app import build_app
from bot.channels.telegram import TelegramChannel
from bot.scheduler import make_scheduler
from bot.settings import TelegramSettings
from handlers.clock import SystemClock
from tests.fake_telegram import FakeBotApi
from tests.test_telegram import AUNT, GROUP, telegram_settings


def one_grid(config: dict) -> None:
    """Every building in the east grid, whose member is on Telegram, so each report's notice goes out there."""
    for grid in config["grids"]:
        grid["buildings"] = list(range(1, 1000)) if grid["member"] == "li_jianguo" else []


WARM_UP = 100  # updates each bot handles before it is timed


def report(i: int) -> str:
    """The text of one group report."""
    # A distinct building and unit each time, so every report is filed anew.
    return f"#报修 {1 + i % 999}号楼{1 + i // 999 % 9}单元电梯坏了，按钮没反应"


class Sends:
    """Counts the sendMessage calls the fake has recorded, reading each call once (a rescan would be O(n²))."""

    def __init__(self, api: FakeBotApi, wanted: Callable[[dict], bool] = lambda params: True) -> None:
        self.api, self.wanted, self.seen, self.count, self.total = api, wanted, 0, 0, 0

    def __call__(self) -> int:
        for name, params in self.api.calls[self.seen:]:
            if name == "sendMessage":
                self.total += 1
                self.count += self.wanted(params)
        self.seen = len(self.api.calls)
        return self.count


async def until(condition: Callable[[], bool], timeout: float = 600) -> None:
    """Wait until condition() holds, checking every millisecond."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.001)


async def timed(api: FakeBotApi, n: int, done: Callable[[int], bool]) -> tuple[float, float]:
    """Warm the bot up, then push n reports and wait until done(count) holds; return (updates/s, CPU ms/update).

    done(k) says whether the bot has finished k updates in all. The warm-up lets each bot fill its caches
    first, as a bot that has been running a while has: the rounds otherwise rose steadily from the first.
    """
    for i in range(WARM_UP):
        await api.say(AUNT, GROUP, report(n + i))
    await until(lambda: done(WARM_UP))
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        await api.say(AUNT, GROUP, report(i))
    await until(lambda: done(WARM_UP + n))
    return n / (time.perf_counter() - wall), 1000 * (time.process_time() - cpu) / n


async def bare_run(n: int, notify: bool) -> tuple[float, float]:
    """A bare PTB bot: the echo bot, or with notify the two-message bot."""
    api = FakeBotApi()
    await api.start()
    app = Application.builder().token("1:BARE").base_url(api.base_url).build()

    async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)
        if notify:
            await app.bot.send_message(chat_id=update.message.from_user.id, text="新诉求：" + update.message.text)

    app.add_handler(MessageHandler(filters.TEXT, answer))
    sends = Sends(api)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        figures = await timed(api, n, lambda k: sends() >= k * (1 + notify))
        await app.updater.stop()
        await app.stop()
    await api.stop()
    return figures


async def doorstep_run(n: int, folder: Path) -> tuple[float, float]:
    """doorstep on a fresh database, timer and outbox running; return (updates/s, CPU ms per update)."""
    api = FakeBotApi()
    await api.start()
    channel = TelegramChannel("123:BENCH", TelegramSettings(enabled=True, base_url=api.base_url, poll_timeout=1,
                                                            per_chat_gap=0, per_group_gap=0),
                                                            rate_limiter=False)
    app = build_app(telegram_settings(folder, one_grid), clock=SystemClock(), channels={"telegram": channel})
    await channel.start(app.handle)
    acks = Sends(api, lambda p: str(p["chat_id"]) == str(GROUP["id"]) and "诉求#" in p["text"])
    scheduler = make_scheduler(app)  # the outbox timer backs up the wake-up that follows each handled message
    scheduler.start()
    figures = await timed(api, n, lambda k: acks() >= k and acks.total >= 2 * k)  # every ack and every notice
    scheduler.shutdown(wait=False)
    await app.sender.idle()
    await app.sender.stop()
    await channel.stop()
    await api.stop()
    app.db.dispose()
    return figures


async def main() -> None:
    """Alternate the three bots for some rounds and print the medians."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    runs: dict[str, list[tuple[float, float]]] = {"echo": [], "two": [], "doorstep": []}
    for _ in range(rounds):
        runs["echo"].append(await bare_run(n, notify=False))
        runs["two"].append(await bare_run(n, notify=True))
        with tempfile.TemporaryDirectory() as folder:
            runs["doorstep"].append(await doorstep_run(n, Path(folder)))
    rate = {name: statistics.median(r for r, _ in figures) for name, figures in runs.items()}
    cpu = {name: statistics.median(c for _, c in figures) for name, figures in runs.items()}
    print(f"{n} group reports through the fake Bot API (long polling, pacing off), median of {rounds} rounds")
    print(f"{'':13}{'updates/s':>10}{'CPU ms/update':>15}{'ratio by rate':>15}{'ratio by CPU':>14}")
    for name, label in (("echo", "echo bot"), ("two", "two-message"), ("doorstep", "doorstep")):
        print(f"{label:13}{rate[name]:10.0f}{cpu[name]:15.2f}{rate[name] / rate['echo']:15.2f}"
              f"{cpu['echo'] / cpu[name]:14.2f}")
    print(f"doorstep against the two-message bot: {rate['doorstep'] / rate['two']:.2f} by rate, "
          f"{cpu['two'] / cpu['doorstep']:.2f} by CPU")
    print("rates per round: " + "; ".join(f"{name} " + " ".join(f"{r:.0f}" for r, _ in figures)
                                          for name, figures in runs.items()))


if __name__ == "__main__":
    asyncio.run(main())
