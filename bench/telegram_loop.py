"""Benchmark: N group reports through the fake Bot API into the running bot, beside a bare PTB echo bot.

Both bots run python-telegram-bot with long polling against the same in-process fake server (tests/fake_telegram)
in one run, with Telegram's pacing switched off (the fake has no limits; pacing would measure Telegram, not the
bot). The echo bot is done with an update when its reply is sent; doorstep when the report is filed, routed and
its group acknowledgement sent (its outbox also sends the grid member's notice). Prints updates/s and the ratio.
Run: .venv/bin/python bench/telegram_loop.py [N]
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
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


def report(i: int) -> str:
    # A distinct building and unit each time, so every report is filed anew.
    return f"#报修 {1 + i % 999}号楼{1 + i // 999 % 9}单元电梯坏了，按钮没反应"


async def until(condition, timeout: float = 600) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.001)


async def echo_run(n: int) -> float:
    api = FakeBotApi()
    await api.start()
    app = Application.builder().token("1:ECHO").base_url(api.base_url).build()

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)

    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        started = time.perf_counter()
        for i in range(n):
            await api.say(AUNT, GROUP, report(i))
        await until(lambda: len(api.calls_of("sendMessage")) >= n)
        elapsed = time.perf_counter() - started
        await app.updater.stop()
        await app.stop()
    await api.stop()
    return n / elapsed


async def doorstep_run(n: int, folder: Path) -> float:
    api = FakeBotApi()
    await api.start()
    channel = TelegramChannel("123:BENCH", TelegramSettings(enabled=True, base_url=api.base_url, poll_timeout=1,
                                                            per_chat_gap=0), rate_limiter=False)
    app = build_app(telegram_settings(folder), clock=SystemClock(), channels={"telegram": channel})
    await channel.start(app.handle)
    acks = lambda: sum(1 for p in api.calls_of("sendMessage") if str(p["chat_id"]) == str(GROUP["id"])
                       and "诉求#" in p["text"])
    scheduler = make_scheduler(app)  # the outbox timer backs up the wake-up that follows each handled message
    scheduler.start()
    started = time.perf_counter()
    for i in range(n):
        await api.say(AUNT, GROUP, report(i))
    await until(lambda: acks() >= n)
    elapsed = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    await app.sender.stop()
    await channel.stop()
    await api.stop()
    app.db.dispose()
    return n / elapsed


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    echo = await echo_run(n)
    with tempfile.TemporaryDirectory() as folder:
        ours = await doorstep_run(n, Path(folder))
    print(f"{n} group reports through the fake Bot API (long polling, pacing off)")
    print(f"echo bot   {echo:8.0f} updates/s")
    print(f"doorstep   {ours:8.0f} updates/s (filed, routed, acknowledged in the group)")
    print(f"ratio      {ours / echo:.2f} of the echo bot")


if __name__ == "__main__":
    asyncio.run(main())
