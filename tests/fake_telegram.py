"""An in-process fake of the Telegram Bot API for tests: real HTTP on loopback, real long polling with offsets.

python-telegram-bot talks to it through `base_url`. It records every call with its parameters, lets a test make
people speak and press buttons, and can inject failures (429 with retry_after, 502, 403) and delays. Once the bot
sets a webhook, updates are POSTed to it with its secret, as Telegram does, instead of waiting for getUpdates.
A photo a person sends is kept as a file: getFile gives its file_path, and /file/bot<token>/<file_path> its bytes.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import math
import random
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import ClientSession, web

PHOTO = (Path(__file__).with_name("photos") / "lift.jpg").read_bytes()  # what a person's photo shows, by default
BOT = {"id": 999000, "is_bot": True, "first_name": "小区助手", "username": "doorstep_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": True, "supports_inline_queries": False}


@dataclass
class Failure:
    """Answer the next `times` calls of a method (optionally for one chat) with an error."""

    method: str
    status: int
    times: int = 1
    retry_after: int | None = None
    chat_id: str | None = None
    description: str = ""


@dataclass
class Sent:
    """A message the bot sent (or edited), and when the fake accepted it (time.monotonic())."""

    chat_id: str
    message_id: int
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    at: float = 0.0
    photo: str | None = None  # the file id of a photo sent


@dataclass
class Limits:
    """Telegram's sending limits, enforced as Telegram does: a message beyond them is answered 429 with a
    retry_after, and is not delivered. Random 429s and 502s (seeded) stand for Telegram's bad moments."""

    per_group_per_minute: int = 20
    overall_per_second: int = 30
    random_429: float = 0.0
    random_502: float = 0.0
    seed: int = 14


class FakeBotApi:
    """Start with `await api.start()`; base_url is then what PTB needs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.sent: dict[tuple[str, int], Sent] = {}
        self.failures: list[Failure] = []
        self.delays: dict[str, float] = {}
        self._updates: list[dict] = []
        self._last: dict | None = None  # the last update pushed, kept after the bot confirmed it
        self._new = asyncio.Condition()
        self._ids = itertools.count(1)
        self._message_ids: dict[str, itertools.count] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.files: dict[str, bytes] = {}  # the bytes of each file id people sent
        self.downloads: list[str] = []  # the file paths downloaded, in order
        self.webhook: dict | None = None  # setWebhook's parameters while one is set
        self.webhook_answers: list[int] = []  # the HTTP status of each POST to the webhook
        # setMyCommands: the command names set for each (scope, language_code), as Telegram keeps them
        self.menus: dict[tuple[str, str | None], list[str]] = {}
        self.limits: Limits | None = None  # set with enforce()
        self.attempts: dict[str, int] = defaultdict(int)  # sendMessage/sendPhoto calls per chat, refused or not
        self.over_limit: dict[str, int] = defaultdict(int)  # calls refused because they broke a limit, per chat
        self._accepted: dict[str | None, deque[float]] = defaultdict(deque)  # per group, and overall (None)
        self._random = random.Random()

    def enforce(self, limits: Limits) -> None:
        """From now on, refuse sends beyond these limits (and fail some at random) as Telegram would."""
        self.limits = limits
        self._random = random.Random(limits.seed)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (on a free port unless told which)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # -- what people do ------------------------------------------------------------------------------------

    async def say(self, user: dict, chat: dict, text: str = "", *, reply_to: int | None = None,
                  photo: str | None = None, photo_data: bytes = PHOTO, edited: bool = False, **fields) -> int:
        """A person writes in a chat (with further Message fields, e.g. is_automatic_forward); returns its id.

        A photo is given by its file id; its bytes (a picture of a broken lift unless told) become Telegram's file."""
        sent_at = _date()
        message = {"message_id": self._next_message_id(str(chat["id"])), "date": sent_at, "chat": chat,
                   "from": user, **fields}
        if photo:
            self.files[photo] = photo_data
            message["photo"] = [{"file_id": photo, "file_unique_id": photo, "width": 90, "height": 90}]
            if text:
                message["caption"] = text
        else:
            message["text"] = text
        mention = f"@{BOT['username']}"
        if mention in text:
            key = "caption_entities" if photo else "entities"
            message[key] = [{"type": "mention", "offset": text.index(mention), "length": len(mention)}]
        if reply_to is not None:
            original = self.sent[(str(chat["id"]), reply_to)]
            message["reply_to_message"] = {"message_id": reply_to, "date": sent_at, "chat": chat,
                                           "from": BOT, "text": original.text}
        await self._push({"edited_message" if edited else "message": message})
        return message["message_id"]

    async def press(self, user: dict, chat: dict, message_id: int, data: str) -> None:
        """A person presses an inline button under one of the bot's messages."""
        original = self.sent[(str(chat["id"]), message_id)]
        keyboard = [[{"text": label, "callback_data": reply} for label, reply in original.buttons]]
        message = {"message_id": message_id, "date": _date(), "chat": chat, "from": BOT,
                   "text": original.text, "reply_markup": {"inline_keyboard": keyboard}}
        await self._push({"callback_query": {"id": str(next(self._ids)), "from": user, "message": message,
                                             "chat_instance": str(chat["id"]), "data": data}})

    async def redeliver_last(self) -> None:
        """Send the last update again under a new update id, as a platform retry would."""
        await self._push({k: v for k, v in self._last.items() if k != "update_id"})

    # -- what the bot did ----------------------------------------------------------------------------------

    def calls_of(self, method: str) -> list[dict]:
        return [params for name, params in self.calls if name == method]

    def menu(self, scope: str = "default", chat: dict | None = None, language: str | None = None) -> list[str]:
        """The commands set for a scope type (default, all_chat_administrators, chat, …) and language."""
        return self.menus.get((_scope_key({"type": scope, **({"chat_id": chat["id"]} if chat else {})}), language), [])

    def texts_in(self, chat: dict) -> list[str]:
        """Texts the bot sent to a chat, in order (as last edited)."""
        return [s.text for (cid, _), s in sorted(self.sent.items(), key=lambda kv: kv[0][1]) if cid == str(chat["id"])]

    def photos_in(self, chat: dict) -> list[str]:
        """File ids of the photos the bot sent to a chat, in order."""
        return [s.photo for (cid, _), s in sorted(self.sent.items(), key=lambda kv: kv[0][1])
                if cid == str(chat["id"]) and s.photo]

    def last_in(self, chat: dict, fragment: str = "") -> Sent:
        return [s for (cid, _), s in sorted(self.sent.items(), key=lambda kv: kv[0][1])
                if cid == str(chat["id"]) and fragment in s.text][-1]

    # -- the API -------------------------------------------------------------------------------------------

    async def _push(self, update: dict) -> None:
        async with self._new:
            self._last = {"update_id": next(self._ids), **update}
            if self.webhook is None:
                self._updates.append(self._last)
                self._new.notify_all()
                return
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook.get("secret_token", "")}
        async with ClientSession() as http, http.post(self.webhook["url"], json=self._last, headers=headers) as answer:
            self.webhook_answers.append(answer.status)

    def _next_message_id(self, chat_id: str) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = {k: (json.loads(v) if isinstance(v, str) and v[:1] in "[{" else v)
                  for k, v in (await request.post()).items()}
        self.calls.append((method, params))
        if delay := self.delays.get(method):
            await asyncio.sleep(delay)
        for failure in self.failures:
            if failure.method == method and failure.times > 0 and failure.chat_id in (None, params.get("chat_id")):
                failure.times -= 1
                return self._error(failure)
        if method in ("sendMessage", "sendPhoto") and (refused := self._limited(str(params["chat_id"]))):
            return self._error(refused)
        handler = getattr(self, f"_api_{method}", None)
        result = await handler(params) if handler else True
        if isinstance(result, web.Response):  # the method's own error
            return result
        return web.json_response({"ok": True, "result": result})

    def _limited(self, chat_id: str) -> Failure | None:
        """The error Telegram would answer this send with under the limits, or None (then it counts)."""
        self.attempts[chat_id] += 1
        limits = self.limits
        if limits is None:
            return None
        roll = self._random.random()
        if roll < limits.random_502:
            return Failure("sendMessage", 502)
        if roll < limits.random_502 + limits.random_429:
            return Failure("sendMessage", 429, retry_after=self._random.randint(1, 3))
        now = time.monotonic()
        windows = [(None, 1.0, limits.overall_per_second)]
        if chat_id.startswith("-"):
            windows.append((chat_id, 60.0, limits.per_group_per_minute))
        for key, span, most in windows:
            accepted = self._accepted[key]
            while accepted and accepted[0] <= now - span:
                accepted.popleft()
            if len(accepted) >= most:
                self.over_limit[chat_id] += 1
                return Failure("sendMessage", 429, retry_after=max(1, math.ceil(accepted[0] + span - now)))
        for key, _, _ in windows:
            self._accepted[key].append(now)
        return None

    @staticmethod
    def _error(failure: Failure) -> web.Response:
        if failure.status >= 500:
            return web.Response(status=failure.status, text="Bad Gateway")
        body = {"ok": False, "error_code": failure.status,
                "description": failure.description or {429: "Too Many Requests: retry later",
                                                       403: "Forbidden: bot was kicked from the group chat"
                                                       }.get(failure.status, "Bad Request")}
        if failure.retry_after is not None:
            body["parameters"] = {"retry_after": failure.retry_after}
        return web.json_response(body, status=failure.status)

    async def _api_getMe(self, _params: dict) -> dict:
        return BOT

    async def _api_getUpdates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        async with self._new:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout:
                try:
                    # Held 0.2 s at most: an empty early answer is one a client must take anyway, and stopping
                    # the bot then waits that long for its last poll, not the whole timeout.
                    await asyncio.wait_for(self._new.wait(), min(timeout, 0.2))
                except TimeoutError:
                    pass
            return list(self._updates[: int(params.get("limit") or 100)])

    async def _api_getFile(self, params: dict) -> dict | web.Response:
        file_id = params["file_id"]
        if file_id not in self.files:
            return self._error(Failure("getFile", 400, description="Bad Request: invalid file_id"))
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.files[file_id]),
                "file_path": f"photos/file_{list(self.files).index(file_id)}.jpg"}

    async def _download(self, request: web.Request) -> web.Response:
        """A file by the path getFile gave, as Telegram serves it; 404 for any other path."""
        path = request.match_info["path"]
        self.downloads.append(path)
        found = re.fullmatch(r"photos/file_(\d+)\.jpg", path)
        files = list(self.files.values())
        if found is None or int(found[1]) >= len(files):
            return web.Response(status=404, text="Not Found")
        return web.Response(body=files[int(found[1])], content_type="application/octet-stream")

    async def _api_setWebhook(self, params: dict) -> bool:
        self.webhook = params
        return True

    async def _api_deleteWebhook(self, _params: dict) -> bool:
        self.webhook = None
        return True

    async def _api_setMyCommands(self, params: dict) -> bool:
        key = (_scope_key(params.get("scope") or {"type": "default"}), params.get("language_code") or None)
        self.menus[key] = [c["command"] for c in params["commands"]]
        return True

    async def _api_sendMessage(self, params: dict) -> dict:
        chat_id = str(params["chat_id"])
        message_id = self._next_message_id(chat_id)
        buttons = [(b["text"], b["callback_data"]) for row in (params.get("reply_markup") or {}).get(
            "inline_keyboard", []) for b in row]
        self.sent[(chat_id, message_id)] = Sent(chat_id, message_id, _plain(params["text"]), buttons, time.monotonic())
        chat = {"id": int(chat_id), "type": "private" if int(chat_id) > 0 else "supergroup"}
        return {"message_id": message_id, "date": _date(), "chat": chat, "from": BOT,
                "text": _plain(params["text"])}

    async def _api_sendPhoto(self, params: dict) -> dict:
        chat_id = str(params["chat_id"])
        message_id = self._next_message_id(chat_id)
        self.sent[(chat_id, message_id)] = Sent(chat_id, message_id, "", [], time.monotonic(), photo=params["photo"])
        chat = {"id": int(chat_id), "type": "private" if int(chat_id) > 0 else "supergroup"}
        photo = [{"file_id": params["photo"], "file_unique_id": params["photo"], "width": 90, "height": 90}]
        return {"message_id": message_id, "date": _date(), "chat": chat, "from": BOT, "photo": photo}

    async def _api_editMessageText(self, params: dict) -> dict:
        chat_id, message_id = str(params["chat_id"]), int(params["message_id"])
        sent = self.sent[(chat_id, message_id)]
        sent.text, sent.buttons = params["text"], []
        chat = {"id": int(chat_id), "type": "private" if int(chat_id) > 0 else "supergroup"}
        return {"message_id": message_id, "date": _date(), "chat": chat, "from": BOT, "text": sent.text}


def _scope_key(scope: dict) -> str:
    """A BotCommandScope as one key: its type, and the chat (and user) it names."""
    return ":".join(str(scope[k]) for k in ("type", "chat_id", "user_id") if k in scope)


def _date() -> int:
    """A message's date as Telegram gives it."""
    return int(time.time())  # real clock: the bot never reads a message's date; deadlines use its own clock


def _plain(text: str) -> str:
    """The text a person sees: HTML tags of mentions removed, entities unescaped."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
