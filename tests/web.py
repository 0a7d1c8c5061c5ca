"""Helpers of the web workbench tests: a sign-in link asked for in chat, a test client for the web app."""
from __future__ import annotations

import asyncio
import re

from fastapi.testclient import TestClient

from bot.web.server import create_web_app

LINK = re.compile(r"https?://\S+/signin/\S+")


def link_for(console, name: str) -> str | None:
    """Ask the bot privately for a sign-in link as this person; the link it sent, or None."""
    sent = console.run(f"/as {name}\n/in 私聊\n网页")
    found = [LINK.search(text) for text in console.seen_by(name, sent)]
    return next((m.group(0) for m in found if m), None)


def client(console) -> TestClient:
    """A browser-like client of the bot's web app (cookies kept, redirects not followed unless asked)."""
    return TestClient(create_web_app(console.app), base_url="http://127.0.0.1:8080", follow_redirects=False)


def signed_in(console, name: str) -> TestClient:
    """A client signed in through a link the bot sent to this person: opened, then its button pressed."""
    web = client(console)
    link = link_for(console, name)
    assert web.get(link).status_code == 200
    response = web.post(link)
    assert response.status_code == 303 and response.headers["location"] == "/requests"
    return web


def csrf(page_html: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)


def drained(console) -> list:
    """Send what the outbox holds on the console, as the outbox timer would; the messages that went out."""
    mark = len(console.channel.sent)
    asyncio.run(console.app.drain("console"))
    return console.channel.sent[mark:]
