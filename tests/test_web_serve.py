"""`doorstep run` serves the workbench in its own event loop, on 127.0.0.1; a port taken leaves the bot running."""
from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp

from bot.app import build_app
from bot.web.server import serve_web


def _app(settings, clock, port: int):
    web = settings.web.model_copy(update={"port": port})
    return build_app(settings.model_copy(update={"web": web}), clock=clock)


async def test_the_workbench_is_served_in_the_bots_event_loop_on_localhost(settings, clock):
    with socket.socket() as probe:  # a port nobody holds now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = _app(settings, clock, port)
    assert app.settings.web.listen == "127.0.0.1"
    task = asyncio.create_task(serve_web(app))
    async with aiohttp.ClientSession() as client:
        for _ in range(500):  # until it answers; each try waits for the loop to run the server
            try:
                async with client.get(f"http://127.0.0.1:{port}/requests", allow_redirects=True) as response:
                    body = await response.text()
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    app.db.dispose()
    assert response.status == 401 and "发「网页」" in body


async def test_a_port_in_use_is_logged_and_the_bot_runs_on(settings, clock, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        app = _app(settings, clock, taken.getsockname()[1])
        with caplog.at_level(logging.ERROR):
            await serve_web(app)  # returns rather than raising or exiting the process
    app.db.dispose()
    assert "web workbench not started" in caplog.text
