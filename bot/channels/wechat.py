"""WeChat through a Wechaty puppet service gateway: room and private text messages in, room.say/contact.say out.

The SDK's failures must not reach the rest of the bot: on an unreachable gateway its start() stops the event
loop it runs in, and on a wrong token it returns without logging in. So the WeChat side lives in its own thread
with its own event loop, driven by a supervisor that watches for login, reconnects with backoff and logs a
clear error after repeated failure. Messages cross into the main loop, where the dispatcher and the outbox run;
sends cross the other way. While WeChat is away, send() raises RetryLater, so the outbox keeps its rows.
A picture's bytes, for the web workbench, cross the same way (picture()): the gateway streams the message's image.
"""
from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future

from bot.channels.base import NoPicture, RetryLater
from bot.settings import Settings, WeChatSettings
from handlers.messages import Inbound, Outbound

log = logging.getLogger(__name__)

# WeChat shows a quoted message as 「name：quoted text」, a dashed line, then the reply.
QUOTE = re.compile(r"^「(?P<name>[^：:」]*)[：:](?P<quoted>.*?)」\s*\n\s*(?:- )+-?\s*\n(?P<text>.*)$", re.S)
SEND_TIMEOUT = 30.0
IMAGE = "wechat:image:"  # an Inbound's or Outbound's attachment: a WeChat picture, by the id of its message
PICTURE_MOST = 20 * 1024 * 1024  # bytes of one picture the web may ask for; a bigger one is refused midway


def _media() -> dict:
    from bot.channels.wechaty_sdk import MessageType
    return {MessageType.MESSAGE_TYPE_IMAGE: "image", MessageType.MESSAGE_TYPE_AUDIO: "voice"}


class GatewayLost(Exception):
    """The gateway closed the event stream or could not be reached."""


class NotLoggedIn(Exception):
    """Connected, but the WeChat account did not log in in time (a wrong token, or nobody scanned the QR code)."""


class WeChatChannel:
    """One WeChat account behind a puppet service gateway."""

    name = "wechat"

    def __init__(self, endpoint: str, token: str, settings: WeChatSettings) -> None:
        self.endpoint, self.token, self.settings = endpoint, token, settings
        # 5% spare: paced exactly at the limit, a few ms of gateway jitter put 21 into a minute as WeChat counts
        # arrivals (bench/delivery_wechat.py saw it).
        self.overall_gap = 60.0 / settings.per_minute * 1.05
        self.max_length = settings.max_length
        self._handle: Callable[[Inbound], None] | None = None
        self._main: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the WeChat thread's loop while connected
        self._bot = None
        self._online = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self._rooms: set[str] = set()

    # -- running -------------------------------------------------------------------------------------------

    async def start(self, handle: Callable[[Inbound], None]) -> None:
        """Start the WeChat thread; messages are handed to handle() in the calling event loop."""
        self._handle, self._main = handle, asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._supervise, name="wechat", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Disconnect and end the WeChat thread."""
        self._stopping.set()
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(_cancel_all, loop)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)

    @property
    def online(self) -> bool:
        """True while connected and logged in."""
        return self._online.is_set()

    def wait_online(self, timeout: float) -> bool:
        """Block until logged in (for start-up checks and tests); False on timeout."""
        return self._online.wait(timeout)

    def _supervise(self) -> None:
        """Connect, stay connected, reconnect with backoff; runs in the WeChat thread until stop()."""
        while not self._stopping.is_set():
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._session())
            except asyncio.CancelledError:  # stop() cancelled the session
                break
            except Exception as error:  # the SDK stopping its loop shows up here too, as a RuntimeError
                if self._stopping.is_set():
                    break
                self._failed(error)
            finally:
                self._online.clear()
                self._loop, self._bot = None, None
                _close(loop)
            if self._stopping.wait(self._backoff()):
                break

    async def _session(self) -> None:
        """One connection to the gateway, from connecting to losing it."""
        # Imported here so the SDK loads only where WeChat runs.
        from bot.channels.wechaty_sdk import PuppetOptions, Wechaty, WechatyOptions, fresh_pools

        # A fresh options object each time (the SDK's default one is shared), and a free port for its plugin
        # server, which would otherwise take port 5000.
        options = WechatyOptions(puppet_options=PuppetOptions(), port=_free_port())
        options.puppet_options.token, options.puppet_options.end_point = self.token, self.endpoint
        bot = Wechaty(options)
        logged_in = asyncio.Event()

        async def on_login(_contact) -> None:  # also after a logout, when someone logs the account in again
            logged_in.set()
            self._online.set()

        async def on_logout(_contact, *_args) -> None:
            self._online.clear()

        bot.on("login", on_login)
        bot.on("logout", on_logout)
        bot.on("message", self._on_message)
        bot.on("friendship", self._on_friendship)
        # Wechaty.start() is not used: on failure it stops the loop, prints, or sleeps a minute and recurses.
        # These are the steps it takes, with failures left to the supervisor.
        await bot.init_puppet()
        fresh_pools(bot)
        await bot.init_puppet_event_bridge(bot.puppet)
        self._bot = bot
        events = asyncio.ensure_future(bot.puppet.start())
        try:
            login = asyncio.ensure_future(logged_in.wait())
            await asyncio.wait({events, login}, timeout=self.settings.login_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            if events.done():
                events.result()  # raises what ended it
                raise GatewayLost("the gateway closed the event stream")
            if not logged_in.is_set():
                raise NotLoggedIn(f"no login within {self.settings.login_timeout:.0f}s: check the token")
            if self.failures:
                log.warning("WeChat connected again after %d failed attempt(s)", self.failures)
            self.failures = 0
            await events
            raise GatewayLost("the gateway closed the event stream")
        finally:
            self._online.clear()
            events.cancel()
            try:
                await asyncio.wait_for(bot.stop(), 5)
            except Exception:  # the connection is gone already; nothing left to close politely
                pass

    def _failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.failures == self.settings.report_after:
            log.error("WeChat: %d connections to the gateway at %s failed in a row (last: %s). "
                      "Check WECHATY_PUPPET_SERVICE_ENDPOINT and _TOKEN and that the gateway runs without TLS; "
                      "still retrying every %.0fs at most.", self.failures, self.endpoint, error, self.settings.retry_max)
        else:
            log.warning("WeChat connection failed (%d in a row): %s", self.failures, error)

    def _backoff(self) -> float:
        if self.failures == 0:
            return self.settings.retry_first
        return min(self.settings.retry_first * 2 ** (self.failures - 1), self.settings.retry_max)

    # -- in ------------------------------------------------------------------------------------------------

    async def _on_message(self, msg) -> None:
        from bot.channels.wechaty_sdk import MessageType

        try:
            kind = _media().get(msg.type())
            if msg.is_self() or msg.type() != MessageType.MESSAGE_TYPE_TEXT and kind is None:
                return  # our own messages come back; system notices, links and stickers are not requests
            inbound = await self._inbound(msg, kind)
        except Exception:
            log.exception("could not read WeChat message %s", getattr(msg, "message_id", "?"))
            return
        if self._main is not None and self._handle is not None:
            self._main.call_soon_threadsafe(self._handle, inbound)

    async def _on_friendship(self, friendship) -> None:
        """Accept a resident's friend request: WeChat lets the bot write privately only to its friends, and the
        group acknowledgement invites residents to add it."""
        from bot.channels.wechaty_sdk import FriendshipType

        try:
            if self.settings.accept_friends and friendship.type() == FriendshipType.FRIENDSHIP_TYPE_RECEIVE:
                await friendship.accept()
        except Exception:
            log.exception("could not accept WeChat friend request %s", getattr(friendship, "friendship_id", "?"))

    async def _inbound(self, msg, kind: str | None = None) -> Inbound:
        talker, room = msg.talker(), msg.room()
        me = self._bot.user_self()
        text, quoted = _unquote(msg.text()) if kind is None else ("", None)  # a picture's text is its XML
        if room is not None:
            self._rooms.add(room.room_id)
        mentioned = me.contact_id in (msg.payload.mention_ids or [])
        if me.name and f"@{me.name}" in text:
            mentioned = True
            text = re.sub(rf"@{re.escape(me.name)}[\u2005 ]?", "", text)
        return Inbound(
            channel=self.name, chat_id=room.room_id if room else talker.contact_id,
            chat_kind="group" if room else "private", sender_id=talker.contact_id, sender_name=talker.name,
            text=text.strip(), message_id=msg.message_id, mentions_bot=mentioned, quoted=quoted,
            chat_title=await room.topic() if room else None,
            attachments=(f"wechat:{kind}:{msg.message_id}",) if kind else ())

    # -- out -----------------------------------------------------------------------------------------------

    async def send(self, message: Outbound) -> str | None:
        """Send one text through the WeChat thread; RetryLater while WeChat is not connected."""
        loop = self._loop
        if not self._online.is_set() or loop is None:
            raise RetryLater(max(self.settings.retry_first, self.overall_gap))
        future: Future = asyncio.run_coroutine_threadsafe(self._say(message), loop)
        return await asyncio.wait_for(asyncio.wrap_future(future), SEND_TIMEOUT)

    async def _say(self, message: Outbound) -> str | None:
        bot = self._bot
        if self._is_room(message.chat_id):
            target = bot.Room.load(message.chat_id)
        else:
            target = bot.Contact.load(message.chat_id)
        await target.ready()
        for box in await self._file_boxes(message.attachments):  # the photos first, the text (and command) last
            await target.say(box)
        if self._is_room(message.chat_id):
            sent = await target.say(message.text, mention_ids=list(message.mention_ids) or None)
        else:
            sent = await target.say(message.text)
        return getattr(sent, "message_id", None)

    async def _file_boxes(self, attachments: tuple[str, ...]) -> list:
        """The FileBoxes of the WeChat pictures attached (a picture received on another channel cannot be sent
        here); one the gateway no longer has is left out, and the text still goes."""
        boxes = []
        for ref in attachments:
            if ref.startswith(IMAGE):
                try:
                    message = self._bot.Message.load(ref.removeprefix(IMAGE))
                    await message.ready()
                    boxes.append(await message.to_file_box())
                except Exception as error:
                    log.warning("could not load WeChat picture %s to forward: %r", ref, error)
        return boxes

    async def picture(self, ref: str) -> bytes:
        """The bytes of a picture received here, as the gateway streams them; NoPicture while WeChat is not
        connected, or when the gateway does not give it (no longer kept, too big)."""
        loop = self._loop
        if not self._online.is_set() or loop is None:
            raise NoPicture("WeChat is not connected")
        if not ref.startswith(IMAGE):
            raise NoPicture("not a WeChat picture")
        future: Future = asyncio.run_coroutine_threadsafe(self._image(ref.removeprefix(IMAGE)), loop)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), SEND_TIMEOUT)
        except NoPicture:
            raise
        except Exception as error:  # the gateway's gRPC errors, a timeout, a connection lost meanwhile
            raise NoPicture(type(error).__name__) from error

    async def _image(self, message_id: str) -> bytes:
        # The stream, not message_image(): the gateway sends any picture as chunks, where its JSON FileBox may be a
        # kind (a UUID box) this SDK cannot read.
        from wechaty_puppet import ImageType

        chunks, size = [], 0
        async for part in self._bot.puppet.puppet_stub.message_image_stream(
                id=message_id, type=ImageType.IMAGE_TYPE_HD):
            data = part.file_box_chunk.data  # the first chunk names the file and carries no data
            size += len(data)
            if size > PICTURE_MOST:
                raise NoPicture("picture too big")
            chunks.append(data)
        return b"".join(chunks)

    def _is_room(self, chat_id: str) -> bool:
        # WeChat room ids end in @chatroom; a room heard from is remembered whatever its id looks like.
        return chat_id.endswith("@chatroom") or chat_id in self._rooms

    def private_chat_for(self, external_id: str) -> str:
        """On WeChat the private chat is the contact itself."""
        return external_id

    def pacing(self, chat_id: str) -> float:
        """Seconds between two messages to one chat; the overall limit is overall_gap."""
        return self.settings.per_chat_gap


def _unquote(text: str) -> tuple[str, str | None]:
    found = QUOTE.match(text)
    return (found["text"], found["quoted"].strip()) if found else (text, None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _close(loop: asyncio.AbstractEventLoop) -> None:
    try:
        _cancel_all(loop)
        loop.run_until_complete(asyncio.sleep(0))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except Exception:  # a loop the SDK stopped may refuse; it is closed below either way
        pass
    finally:
        loop.close()


def wechat_channel(settings: Settings) -> WeChatChannel | None:
    """The WeChat channel when config enables it and the gateway's endpoint and token are set, else None."""
    env = settings.env
    endpoint, token = env.get("WECHATY_PUPPET_SERVICE_ENDPOINT"), env.get("WECHATY_PUPPET_SERVICE_TOKEN")
    if not (settings.channels.wechat.enabled and endpoint and token):
        return None
    return WeChatChannel(endpoint, token, settings.channels.wechat)
