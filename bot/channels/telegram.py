"""Telegram through python-telegram-bot: updates become one Inbound, an Outbound becomes one sendMessage.

The adapter translates and nothing more: it never decides what to say. Sending errors are mapped onto the
channel errors of bot.channels.base, so the outbox decides what to retry:
    RetryAfter (429)            -> RetryLater, the row waits as long as Telegram asked
    Forbidden (403)             -> Unreachable, the bot was blocked or removed from the group
    BadRequest 'chat not found', 'not enough rights'
                                -> Unreachable, the grid member is told once and nothing more is queued there
    ChatMigrated                -> Moved: the group became a supergroup; the bot follows it to the new id
    any other BadRequest (400)  -> Rejected, the message itself is refused; sending it again cannot help
    network errors, 5xx         -> passed on, retried with backoff
    not connected yet           -> RetryLater
A message with photos sends them first (sendPhoto by file id), then its text: a retry after a failure of the text
may send a photo twice, never the text.
If Telegram cannot be reached at start, the rest of the bot runs on while the adapter keeps trying; a token
Telegram rejects is logged and leaves Telegram off.
A photo's bytes, for the web workbench, come from getFile and then the file's download path (picture()).
"""
from __future__ import annotations

import asyncio
import html
import logging
import re
import warnings
from collections.abc import Callable
from datetime import timedelta

from telegram import (BotCommand, BotCommandScope, BotCommandScopeAllChatAdministrators, BotCommandScopeChat,
                      BotCommandScopeDefault, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity,
                      Update)
from telegram.constants import ChatType, ParseMode
from telegram.error import (BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter,
                            TelegramError)
from telegram.warnings import PTBDeprecationWarning
from telegram.ext import AIORateLimiter, Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.channels import limits
from bot.channels.base import Moved, NoPicture, Rejected, RetryLater, Unreachable
from bot.settings import Settings, TelegramSettings
from handlers.catalog import Catalog
from handlers.community import STAFF_ROLES, Community
from handlers.messages import Inbound, Outbound

log = logging.getLogger(__name__)

# Telegram's command menu, set with setMyCommands for each audience (a scope) and described in the catalogs'
# `menu` texts: Chinese for everyone, English for people whose Telegram is in English. Residents see only what
# is theirs; group admins (the secretary) also /bindchat; staff, in their private chat, their work commands.
# /bind is in no menu: a new staff member is told it with the code.
RESIDENT_MENU = ("my", "help")
ADMIN_MENU = ("my", "help", "bindchat")
STAFF_MENU = ("my", "claim", "progress", "done", "show", "transfer", "escalate", "web", "help")
TELEGRAM_SERVICE_USER = 777000  # the sender of posts a linked channel forwards into its discussion group
MENU_LANGUAGES = ((None, "zh-CN"), ("en", "en"))
BOUND = "bound"  # the purpose of the welcome to a newly bound staff member: their chat gets the staff menu
ASKED_KEPT = 10_000  # prompts remembered with whom they asked
PHOTO = "telegram:photo:"  # how a Telegram photo is referred to in an Inbound's and an Outbound's attachments
_ADDRESSED = re.compile(r"^(?P<command>/\w+)@(?P<bot>\w+)")


class TelegramChannel:
    """One bot account: polling (or a webhook) in, paced sendMessage out."""

    name = "telegram"
    overall_gap = limits.TELEGRAM_OVERALL_GAP
    max_length = limits.TELEGRAM_MAX_LENGTH

    def __init__(self, token: str, settings: TelegramSettings, *, webhook_secret: str | None = None,
                 rate_limiter: bool = True, staff_chats: tuple[str, ...] = ()) -> None:
        self.settings, self.webhook_secret = settings, webhook_secret
        self.staff_chats = staff_chats  # private chats of staff known from config, which get the staff menu
        self.catalog = Catalog.load()
        builder = Application.builder().token(token)
        if settings.base_url:
            builder = builder.base_url(settings.base_url).base_file_url(file_url(settings.base_url))
        if rate_limiter:
            # The outbox paces within Telegram's limits; this is a second guard. max_retries=0 hands a 429 to the
            # outbox, which reschedules that chat alone.
            builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
        self.application = builder.build()
        self.online = False
        self.refused = False  # Telegram rejected the token: nothing will be sent until the bot is restarted
        self._handle: Callable[[Inbound], bool | None] | None = None
        self._names: dict[str, str] = {}
        # Whom each recent prompt with buttons in a group was put to: only their press takes the buttons away.
        self._asked: dict[tuple[str, str], frozenset[str]] = {}
        self._connecting: asyncio.Task | None = None

    # -- running -------------------------------------------------------------------------------------------

    async def start(self, handle: Callable[[Inbound], None]) -> None:
        """Start receiving updates in the running event loop; each becomes handle(Inbound).

        Returns once Telegram answered, or after the first failed try, leaving later tries to the background.
        """
        self._handle = handle
        app = self.application
        messages = filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION | filters.PHOTO)
        app.add_handler(MessageHandler(messages, self._on_message))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrated))
        app.add_handler(CallbackQueryHandler(self._on_button))
        if not await self._connect():
            self._connecting = asyncio.ensure_future(self._keep_connecting())

    async def _connect(self) -> bool:
        """Try once to reach Telegram and start receiving; False when it is worth trying again."""
        app = self.application
        try:
            await app.initialize()
            await self._menu(RESIDENT_MENU, BotCommandScopeDefault())
            await self._menu(ADMIN_MENU, BotCommandScopeAllChatAdministrators())
            for chat_id in self.staff_chats:
                await self._staff_menu(chat_id)
            if not app.running:
                await app.start()
            if self.settings.webhook_url:
                await app.updater.start_webhook(
                    listen=self.settings.webhook_listen, port=self.settings.webhook_port,
                    url_path=app.bot.token.split(":")[0], webhook_url=self.settings.webhook_url,
                    secret_token=self.webhook_secret, allowed_updates=["message", "callback_query"])
            else:
                await app.updater.start_polling(
                    poll_interval=self.settings.poll_interval, timeout=timedelta(seconds=self.settings.poll_timeout),
                    allowed_updates=["message", "callback_query"])
        except InvalidToken:  # its message quotes the token, which does not belong in a log
            log.error("Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN (BotFather's /token). Telegram "
                      "stays off; the other channels run on.")
            self.refused = True
            return True
        except NetworkError as error:  # TimedOut is one too
            log.warning("Telegram cannot be reached (%s); trying again in the background, the rest runs on", error)
            return False
        self.online = True
        return True

    async def _menu(self, commands: tuple[str, ...], scope: BotCommandScope) -> None:
        for telegram_code, language in MENU_LANGUAGES:
            await self.application.bot.set_my_commands(
                [BotCommand(c, self.catalog.text(language, f"menu.{c}")) for c in commands],
                scope=scope, language_code=telegram_code)

    async def _staff_menu(self, chat_id: str) -> None:
        """The staff menu in one staff member's private chat; a chat Telegram does not know yet (they never
        wrote to the bot) is left for when they bind."""
        try:
            await self._menu(STAFF_MENU, BotCommandScopeChat(int(chat_id)))
        except (BadRequest, Forbidden) as error:
            log.info("no staff menu for chat %s yet: %s", chat_id, error)

    async def _keep_connecting(self) -> None:
        delay = self.settings.retry_first
        while True:
            await asyncio.sleep(delay)
            if await self._connect():
                if self.online:
                    log.warning("Telegram reached; receiving and sending again")
                return
            delay = min(2 * delay, self.settings.retry_max)

    async def stop(self) -> None:
        """Stop receiving and close the connections."""
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        app = self.application
        if app.updater and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.bot.shutdown()  # its HTTP clients are open even when initialize() never got an answer
        self.online = False

    # -- in ------------------------------------------------------------------------------------------------

    async def _on_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.message
        if msg is None or msg.from_user is None or msg.from_user.is_bot or _not_a_person(msg):
            return
        self._names[str(msg.from_user.id)] = msg.from_user.full_name
        bot = self.application.bot
        text = msg.text or msg.caption or ""
        entities = msg.parse_entities() if msg.text else msg.parse_caption_entities()
        mentioned = any(
            (e.type == MessageEntity.MENTION and value.lower() == f"@{bot.username}".lower())
            or (e.type == MessageEntity.TEXT_MENTION and e.user and e.user.id == bot.id)
            for e, value in entities.items())
        addressed = _ADDRESSED.match(text)  # /help@SomeBot: in a group, Telegram's way to pick one of several bots
        if addressed:
            if addressed["bot"].lower() != (bot.username or "").lower():
                return  # a command for another bot is not ours to answer
            text = addressed["command"] + text[addressed.end():]
        if bot.username:
            text = re.sub(re.escape(f"@{bot.username}"), "", text, flags=re.I).strip()
        replied = msg.reply_to_message
        self._deliver(Inbound(
            channel=self.name, chat_id=str(msg.chat.id), chat_kind=_kind(msg), sender_id=str(msg.from_user.id),
            sender_name=msg.from_user.full_name, text=text, message_id=f"{msg.chat.id}:{msg.message_id}",
            mentions_bot=mentioned, chat_title=msg.chat.title,
            reply_to=str(replied.message_id) if replied and replied.from_user and replied.from_user.id == bot.id else None,
            attachments=(PHOTO + msg.photo[-1].file_id,) if msg.photo else ()))

    async def _on_migrated(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Telegram's note in a group that became a supergroup: the new group is the old one under a new id."""
        msg = update.message
        if msg is None or msg.migrate_from_chat_id is None or msg.from_user is None:
            return  # the old group's half (migrate_to_chat_id) says the same; one is enough
        self._deliver(Inbound(
            channel=self.name, chat_id=str(msg.chat.id), chat_kind="group", sender_id=str(msg.from_user.id),
            sender_name=msg.from_user.full_name, text="", message_id=f"{msg.chat.id}:{msg.message_id}",
            chat_title=msg.chat.title, moved_from=str(msg.migrate_from_chat_id)))

    async def _on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer()
        prompt = query.message
        if not isinstance(prompt, Message):
            return  # too old for Telegram to show us; nothing to answer in
        label = next((b.text for row in (prompt.reply_markup.inline_keyboard if prompt.reply_markup else ())
                      for b in row if b.callback_data == query.data), query.data)
        self._names[str(query.from_user.id)] = query.from_user.full_name
        done = self._deliver(Inbound(
            channel=self.name, chat_id=str(prompt.chat.id), chat_kind=_kind(prompt),
            sender_id=str(query.from_user.id), sender_name=query.from_user.full_name, text=query.data or "",
            message_id=f"button:{query.id}", reply_to=str(prompt.message_id), chat_title=prompt.chat.title))
        asked = self._asked.get((str(prompt.chat.id), str(prompt.message_id)))
        if done is None or asked is not None and str(query.from_user.id) not in asked:
            return  # kept for later, or a neighbour's press: the buttons stay for the one asked
        try:  # what happened, and no buttons, so the prompt cannot be pressed twice; a refusal's reason follows
            await query.edit_message_text(f"{prompt.text}\n{'✓' if done else '✗'} {label}")
        except BadRequest as error:
            log.info("could not edit prompt %s: %s", prompt.message_id, error)

    def _deliver(self, message: Inbound) -> bool | None:
        return self._handle(message) if self._handle is not None else None

    # -- out -----------------------------------------------------------------------------------------------

    async def send(self, message: Outbound) -> str | None:
        """Send one message; return its Telegram message id."""
        if not self.online:  # the outbox keeps the row; soon while connecting, seldom after a refusal
            raise RetryLater(self.settings.retry_max if self.refused else self.settings.retry_first)
        mentions = "".join(f'<a href="tg://user?id={uid}">@{html.escape(self._names.get(uid, "👤"))}</a> '
                           for uid in message.mention_ids)
        buttons = [InlineKeyboardButton(c.label, callback_data=c.reply[:64]) for c in message.choices]
        per_row = len(buttons) if len(buttons) <= 4 else 3  # several notices in one message: 接单 12, 接单 13, …
        markup = InlineKeyboardMarkup([buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
                                      ) if buttons else None
        try:
            for photo in _photos(message.attachments):  # before the text, so the notice's buttons stay last
                await self.application.bot.send_photo(chat_id=int(message.chat_id), photo=photo)
            sent = await self.application.bot.send_message(
                chat_id=int(message.chat_id), text=mentions + html.escape(message.text), parse_mode=ParseMode.HTML,
                reply_markup=markup)
        except RetryAfter as wait:
            with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta; both work
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                seconds = wait.retry_after
            raise RetryLater(seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)) from wait
        except Forbidden as gone:
            raise Unreachable(str(gone)) from gone
        except ChatMigrated as moved:  # the group became a supergroup under a new id
            raise Moved(str(moved.new_chat_id)) from moved
        except BadRequest as bad:
            if any(reason in str(bad).lower() for reason in ("chat not found", "not enough rights")):
                raise Unreachable(str(bad)) from bad
            raise Rejected(str(bad)) from bad
        if message.purpose == BOUND:
            try:
                await self._staff_menu(message.chat_id)
            except TelegramError as error:  # the welcome went out; the menu is a convenience
                log.warning("could not set the staff menu for chat %s: %s", message.chat_id, error)
        if markup is not None and message.mention_ids:
            self._asked[(message.chat_id, str(sent.message_id))] = frozenset(message.mention_ids)
            if len(self._asked) > ASKED_KEPT:
                del self._asked[next(iter(self._asked))]  # the oldest; an old prompt's press edits as before
        return str(sent.message_id)

    async def picture(self, ref: str) -> bytes:
        """The bytes of a photo received here: getFile, then its download path. NoPicture while Telegram is not
        connected, or when it does not give the file (one of another bot, or too big for the Bot API)."""
        if not self.online:
            raise NoPicture("Telegram is not connected")
        if not ref.startswith(PHOTO):
            raise NoPicture("not a Telegram photo")
        try:
            found = await self.application.bot.get_file(ref.removeprefix(PHOTO))
            return bytes(await found.download_as_bytearray())
        except (TelegramError, RuntimeError) as error:  # RuntimeError: Telegram gave the file no download path
            raise NoPicture(type(error).__name__) from error

    def private_chat_for(self, external_id: str) -> str:
        """On Telegram a user's private chat with the bot has the user's id."""
        return external_id

    def pacing(self, chat_id: str) -> float:
        """Seconds between two messages to one chat: one a second (in a group too, within its window)."""
        if chat_id.startswith("-"):  # a group (negative id)
            return min(self.settings.per_chat_gap, self.settings.per_group_gap)
        return self.settings.per_chat_gap

    def window(self, chat_id: str) -> tuple[int, float] | None:
        """A group takes 60 / per_group_gap messages in any minute (Telegram: 20), a burst of them a second apart
        rather than one every 3 s: a group's first replies after a quiet spell go out at once."""
        gap = self.settings.per_group_gap
        return (max(1, round(60 / gap)), 60.0) if chat_id.startswith("-") and gap > 0 else None


def file_url(base_url: str) -> str:
    """Where a Bot API server serves files, for the base of its methods: https://api.telegram.org/bot ->
    https://api.telegram.org/file/bot, the layout of Telegram's own server and of a local Bot API server."""
    root = base_url.rstrip("/")
    return root.removesuffix("bot") + "file/bot" if root.endswith("/bot") else root + "/file"


def _not_a_person(msg: Message) -> bool:
    """A post of a linked channel forwarded into the group by Telegram, or sent in a channel's name: no resident."""
    return bool(msg.is_automatic_forward or msg.from_user.id == TELEGRAM_SERVICE_USER
                or (msg.sender_chat and msg.sender_chat.type == ChatType.CHANNEL))


def _photos(attachments: tuple[str, ...]) -> list[str]:
    """Telegram file ids of the photos attached; a photo received on another channel cannot be sent here."""
    return [ref.removeprefix(PHOTO) for ref in attachments if ref.startswith(PHOTO)]


def _kind(msg: Message) -> str:
    return "private" if msg.chat.type == ChatType.PRIVATE else "group"


def telegram_channel(settings: Settings) -> TelegramChannel | None:
    """The Telegram channel when config enables it and TELEGRAM_BOT_TOKEN is set, else None."""
    token = settings.env.get("TELEGRAM_BOT_TOKEN")
    if not (settings.channels.telegram.enabled and token):
        return None
    return TelegramChannel(token, settings.channels.telegram,
                           webhook_secret=settings.env.get("TELEGRAM_WEBHOOK_SECRET"),
                           staff_chats=staff_chats(settings.community))


def staff_chats(community: Community) -> tuple[str, ...]:
    """The Telegram private chats (user ids) of staff and volunteers whose account config names."""
    return tuple(m.contacts["telegram"] for m in community.members
                 if "telegram" in m.contacts and m.role in (*STAFF_ROLES, "volunteer"))
