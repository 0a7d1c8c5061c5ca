"""The console channel: a chat simulator in the terminal, interactive or driven by a script file.

Lines typed are messages from the current speaker in the current chat. Console commands:
  /as NAME        speak as someone else          /in CHAT | /in 私聊   switch chat (a group, or private with the bot)
  /who            who and where you are          /reply mN TEXT        answer the bot's message mN (e.g. a rating)
  /advance 2h     move the clock (dev mode)      /time                 the community's time now
  /quit           leave
Any other line, /help, /my and /done included, goes to the bot. Lines starting with // are comments.
"""
from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import Iterable
from typing import TextIO

from handlers.clock import FakeClock
from handlers.durations import parse_duration
from handlers.messages import Inbound, Outbound

log = logging.getLogger(__name__)

PRIVATE_WORDS = ("私聊", "private", "dm")
META = ("/as", "/in", "/who", "/reply", "/advance", "/time", "/quit")
USAGE = {"/as": "/as NAME", "/in": "/in CHAT (or /in 私聊)", "/reply": "/reply mN TEXT, e.g. /reply m3 满意"}


class ConsoleChannel:
    """Prints what the bot sends, naming the chat and the recipient."""

    name = "console"
    overall_gap = 0.0
    max_length = None

    def __init__(self, out: TextIO | None = None, bot_name: str = "小区助手") -> None:
        self.out = out or sys.stdout
        self.bot_name = bot_name
        self.sent: list[tuple[str, Outbound]] = []

    def private_chat_for(self, external_id: str) -> str:
        """A person's private chat with the bot is '@NAME'."""
        return f"@{external_id}"

    def pacing(self, chat_id: str) -> float:
        """The console needs no pacing."""
        return 0.0

    async def send(self, message: Outbound) -> str:
        """Print the message and return its id (m1, m2, …) for /reply.

        The id is the outbox row's, unique on the database: after a restart `/reply m3` must not find an
        earlier run's m3 in the same chat.
        """
        message_id = f"m{message.outbox_id or len(self.sent) + 1}"
        self.sent.append((message_id, message))
        where = f"私聊·{message.chat_id[1:]}" if message.chat_id.startswith("@") else message.chat_id
        lines = ("".join(f"@{m} " for m in message.mention_ids) + message.text).splitlines() or [""]
        print(f"[{where}] {self.bot_name} ({message_id}): {lines[0]}", file=self.out)
        for extra in lines[1:]:
            print(f"    {extra}", file=self.out)
        if message.choices:
            print("    " + "  ".join(f"〔{c.label} → {c.reply}〕" for c in message.choices), file=self.out)
        return message_id


class ConsoleSession:
    """Who is speaking where, turning typed lines into Inbound messages for the app."""

    def __init__(self, app, channel: ConsoleChannel, *, speaker: str, chat: str | None, echo: bool) -> None:
        self.app, self.channel, self.echo = app, channel, echo
        self.speaker = speaker
        groups = [c.console for c in app.settings.community.chats if c.console]
        self.chat = chat or (groups[0] if groups else channel.private_chat_for(speaker))
        self.count = 0
        # Message ids are the ledger's key for exactly-once handling: a run's own prefix keeps a restarted
        # console's first lines from being taken for the earlier run's and dropped.
        self.run_id = uuid.uuid4().hex[:12]
        self.done = False

    @property
    def private(self) -> bool:
        """Whether the current chat is the speaker's private chat with the bot."""
        return self.chat.startswith("@")

    def say(self, text: str) -> None:
        """Print a line of the console itself (not of the bot)."""
        print(text, file=self.channel.out)

    async def line(self, raw: str) -> None:
        """Handle one typed line."""
        text = raw.strip()
        if not text or text.startswith("//"):
            return
        word, _, rest = text.partition(" ")
        try:
            if word in META:
                await self._meta(word, rest.strip())
            else:
                await self._send(text)
        except Exception:  # the session goes on; a message that was typed is kept by app.handle already
            log.exception("console line failed: %s", text)
            self.say("— that did not go through (see the log); a message the database could not take is kept "
                     "and handled when it is back")

    async def run(self, lines: Iterable[str]) -> None:
        """Play a script, line by line."""
        for raw in lines:
            if self.done:
                break
            await self.line(raw)

    async def interactive(self) -> None:
        """Read lines from the terminal until end of input or /quit."""
        self.say(f"doorstep console — you are {self.speaker} in {self._where()}. /as /in /who /advance /quit")
        while not self.done:
            raw = await asyncio.to_thread(sys.stdin.readline)
            if not raw:
                break
            await self.line(raw)

    async def _send(self, text: str, reply_to: str | None = None) -> None:
        self.count += 1
        if self.echo:
            self.say(f"{self.speaker} @ {self._where()}: {text}")
        self.app.handle(Inbound(
            channel="console", chat_id=self.chat, chat_kind="private" if self.private else "group",
            sender_id=self.speaker, sender_name=self.speaker, text=text, message_id=f"c{self.run_id}-{self.count}",
            mentions_bot=f"@{self.channel.bot_name}" in text, reply_to=reply_to,
            sender_chat=self.channel.private_chat_for(self.speaker)))
        await self.app.drain("console")  # other channels drain in the background: a WeChat backlog never freezes this

    async def _meta(self, word: str, rest: str) -> None:
        if word == "/as" and rest:
            self.speaker = rest
            if self.private:
                self.chat = self.channel.private_chat_for(rest)
            self.say(f"— you are {self.speaker} in {self._where()}")
        elif word == "/in" and rest:
            self.chat = self.channel.private_chat_for(self.speaker) if rest in PRIVATE_WORDS else rest
            self.say(f"— you are {self.speaker} in {self._where()}")
        elif word == "/who":
            self.say(f"— you are {self.speaker} in {self._where()}")
        elif word == "/reply" and len(rest.split(maxsplit=1)) == 2:
            target, answer = rest.split(maxsplit=1)
            await self._send(answer, reply_to=target)
        elif word == "/advance":
            await self._advance(rest)
        elif word == "/time":
            self.say(f"— {self.app.clock.now().astimezone(self.app.settings.community.zone):%Y-%m-%d %H:%M}")
        elif word == "/quit":
            self.done = True
        else:
            self.say(f"— usage: {USAGE[word]}")

    async def _advance(self, amount: str) -> None:
        if not isinstance(self.app.clock, FakeClock):
            self.say("— /advance works in dev mode only (doorstep run --dev)")
            return
        try:
            delta = parse_duration(amount)
        except ValueError as error:
            self.say(f"— {error}")
            return
        self.app.clock.advance(delta)
        self.app.keep_dev_time()
        self.say(f"— time is now {self.app.clock.now().astimezone(self.app.settings.community.zone):%Y-%m-%d %H:%M}")
        await self.app.tick(wait_for="console")

    def _where(self) -> str:
        return "私聊 (private chat with the bot)" if self.private else self.chat
