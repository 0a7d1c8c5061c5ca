"""Smoke test against third-party code: the npm package telegram-test-api 4.2.1, started on 127.0.0.1.

Between python-telegram-bot and that server sits a small bridge of this harness (never of the product) for the
server's known gaps: getMe lacks is_bot, sendMessage answers with a millisecond date and a private chat type,
methods it lacks (setMyCommands) answer HTTP 500, and getUpdates ignores `timeout` (so PTB polls every 0.1 s).
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import build_app
from bot.channels.telegram import TelegramChannel
from bot.settings import TelegramSettings
from tests.conftest import PATIENCE
from tests.npm import free_port, node_modules
from tests.test_telegram import GROUP, LI, telegram_settings

HERE = Path(__file__).with_name("telegram_test_api")
TOKEN = "4242:SMOKE"


@pytest.fixture(scope="module")
def test_api_server():
    """telegram-test-api installed with its exact version and started; skipped where node or npm is missing."""
    modules = node_modules("npm", "telegram-test-api@4.2.1")
    for _ in range(5):  # a port found free can be taken before node binds it: then another
        port = free_port()
        log = tempfile.TemporaryFile("w+")  # not a pipe: nobody reads it while the server runs
        process = subprocess.Popen(["node", str(HERE / "server.js"), str(port)], stdout=subprocess.PIPE,
                                   stderr=log, env={**os.environ, "NODE_PATH": str(modules)}, text=True)
        if process.stdout.readline().strip() == "ready":
            break
        process.wait(10)
        log.seek(0)
        said = log.read()
        assert "EADDRINUSE" in said, f"telegram-test-api did not start: {said[-2000:]}"
    else:
        pytest.fail("telegram-test-api found no free port in five tries")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(10)


async def _bridge(upstream: str) -> tuple[web.AppRunner, str]:
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method in ("setMyCommands", "deleteWebhook"):
            return web.json_response({"ok": True, "result": True})
        form = dict(await request.post())
        async with session.post(f"{upstream}/bot{request.match_info['token']}/{method}", data=form) as answer:
            body = await answer.json()
        if method == "getMe":
            body["result"]["is_bot"] = True
        if method == "sendMessage" and body.get("ok"):
            result = body["result"]
            result["date"] = int(result.get("date", time.time() * 1000) / 1000)  # real clock: a message's date, unread
            chat_id = int(form["chat_id"])
            result["chat"] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
            result.setdefault("message_id", int(time.time() * 1000) % 10**9)  # real clock: only a unique id
        return web.json_response(body)

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", forward)
    app.on_cleanup.append(lambda _app: session.close())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/bot"


async def test_report_through_telegram_test_api(test_api_server, tmp_path, clock):
    runner, base_url = await _bridge(test_api_server)
    channel = TelegramChannel(TOKEN, TelegramSettings(enabled=True, base_url=base_url, poll_interval=0.1,
                                                      poll_timeout=0, per_chat_gap=0, per_group_gap=0))
    app = build_app(telegram_settings(tmp_path), clock=clock, channels={"telegram": channel})
    handled: list = []
    await channel.start(lambda message: (app.handle(message), handled.append(message)))
    try:
        sent_at = int(time.time())  # real clock: Telegram's message date, which the bot does not read
        report = {"botToken": TOKEN, "date": sent_at, "text": "#报修 3号楼2单元电梯坏了",
                  "from": {"id": 2001, "first_name": "王阿姨", "is_bot": False},
                  "chat": {"id": GROUP["id"], "title": GROUP["title"], "type": "supergroup"}}
        async with aiohttp.ClientSession() as client:
            await client.post(f"{test_api_server}/sendMessage", json=report)

            async def until_handled() -> None:
                while not handled:
                    await asyncio.sleep(0.05)
            await asyncio.wait_for(until_handled(), PATIENCE)
            await app.drain()  # joins a drain the commit may have started already

            async def bot_said(chat_id: int) -> list[str]:
                async with client.post(f"{test_api_server}/getUpdatesHistory",
                                       json={"token": TOKEN, "chatId": chat_id}) as answer:
                    history = (await answer.json())["result"]
                return [u["message"]["text"] for u in history
                        if "text" in u.get("message", {}) and str(u["message"].get("chat_id")) == str(chat_id)]

            async def both_sent() -> tuple[list[str], list[str]]:
                while True:  # the server records a message only once it has answered the send
                    group, notice = await bot_said(GROUP["id"]), await bot_said(LI["id"])
                    if group and notice:
                        return group, notice
                    await asyncio.sleep(0.05)
            group, notice = await asyncio.wait_for(both_sent(), PATIENCE)
        assert any("诉求#1" in text and "3号楼2单元" in text for text in group), json.dumps(group, ensure_ascii=False)
        assert any("诉求#1" in text and "接单 1" in text for text in notice), json.dumps(notice, ensure_ascii=False)
    finally:
        await channel.stop()
        await runner.cleanup()
        app.db.dispose()
