"""The dispatcher: decide what an inbound message is, then handle it in one transaction, exactly once."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import partial

from handlers import binding, kept, residents, staff
from handlers.clock import Clock
from handlers.commands import Command, is_greeting, parse_command, parse_offer_answer, parse_rating
from handlers.context import Services, Turn
from handlers.errors import NotAllowed, UserError
from handlers.filing import answer_offer, file_request, offer
from handlers.intake import Reading
from handlers.messages import Inbound
from handlers.rating import rate
from handlers.say import Say
from storage.db import Database, is_transient, retry_conflicts
from storage.models import Offer, Outbox, Request
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_SLASH_COMMAND = re.compile(r"^/\S+")
IGNORED = object()

STAFF_VERBS = {"claim": staff.claim, "progress": staff.progress, "done": staff.done, "transfer": staff.transfer,
               "escalate": staff.escalate, "merge": staff.merge, "reject": staff.reject,
               "settle": kept.settle}
EVERYONE_VERBS = {"show": staff.show, "mine": residents.mine, "withdraw": residents.withdraw,
                  "add": residents.add_detail, "rate": residents.rate_command,
                  "bind": binding.bind, "bindchat": binding.bind_chat}
Action = Callable[[Turn], object]


def detect_language(text: str) -> str | None:
    """zh-CN for Chinese, en for English words, None when the text does not tell.

    A slash command or a single word ("/my" from Telegram's menu, "ok", "hello") says nothing: a Chinese resident
    who taps the menu must not be answered in English from then on.
    """
    if _CJK.search(text):
        return "zh-CN"
    words = _LATIN_WORD.findall(_SLASH_COMMAND.sub("", text.strip(), count=1))
    return "en" if len(words) >= 2 else None


class Dispatcher:
    """Handles every inbound message of every channel."""

    def __init__(self, services: Services, db: Database, clock: Clock) -> None:
        self.svc, self.db, self.clock = services, db, clock

    def handle(self, msg: Inbound) -> None:
        """Handle one message; chatter touches no storage at all."""
        action = self.screen(msg)
        if action is None:
            return
        try:
            self._run(msg, action)
        except UserError as error:
            self._run(msg, partial(_answer, error.key, error.params))
        except Exception as error:
            if is_transient(error):  # the database away or cut off for a moment: the caller keeps it to retry
                raise
            log.exception("handling failed: channel=%s chat=%s message=%s", msg.channel, msg.chat_id, msg.message_id)
            self._run(msg, _keep_and_apologise)

    def screen(self, msg: Inbound) -> Action | None:
        """What to do with a message, decided without storage; None for chatter to ignore."""
        text = msg.text.strip()
        if not text:  # a photo alone: in a group it is chatter; in private, say how to send it with words
            return partial(_answer, "help.photo_only", {}) if msg.is_private and msg.attachments else None
        cmd = parse_command(text, private=msg.is_private)
        if cmd is not None:
            return partial(_command, cmd)
        reading = self.svc.reader.read(text, mentioned=msg.mentions_bot)
        short = parse_offer_answer(text) is not None or parse_rating(text) is not None
        if short and (msg.is_private or msg.reply_to or msg.quoted or len(text) <= 12):
            return partial(_short_answer, reading)
        return _ordinary(reading, msg)

    def _run(self, msg: Inbound, action: Action) -> None:
        retry_conflicts(partial(self._transaction, msg, action))

    def _transaction(self, msg: Inbound, action: Action) -> None:
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
            if not uow.ledger.first_delivery(msg.channel, msg.message_id, now):
                return
            person, account = uow.people.met(
                msg.channel, msg.sender_id, msg.sender_name, language=detect_language(msg.text),
                private_chat=msg.chat_id if msg.is_private else msg.sender_chat, at=now)
            turn = Turn(self.svc, uow, Say(uow, self.svc.catalog, self.svc.community, now), now, msg, person, account)
            if action(turn) is IGNORED:
                return
            uow.commit()


def _ordinary(reading: Reading, msg: Inbound) -> Action | None:
    """What to do with a message that is neither a command nor an answer; None for chatter."""
    if reading.tagged and reading.says_nothing and not msg.attachments:  # "#投诉" alone: ask, rather than file nothing
        return partial(_answer, "error.empty_wish" if reading.kind == "wish" else "error.empty_report", {})
    if reading.tagged or reading.urgent or (msg.is_private and reading.kind != "none"):
        return partial(_file, reading)
    if msg.is_private:  # a hello gets the welcome; anything else unread, how to say it
        return partial(_command, Command("help")) if is_greeting(msg.text) else partial(_answer, "help.hint", {})
    if reading.confident:
        return partial(_offer, reading)
    return None


def _command(cmd: Command, t: Turn) -> None:
    if cmd.verb == "help":
        t.reply("help.staff" if t.staff_role() or t.person.role == "volunteer" else "help.resident")
    elif cmd.verb in STAFF_VERBS:
        if t.person.staff_id is None:
            raise NotAllowed("error.staff_only")
        STAFF_VERBS[cmd.verb](t, cmd)
    else:
        EVERYONE_VERBS[cmd.verb](t, cmd)


def _file(reading: Reading, t: Turn) -> None:
    file_request(t, reading, t.msg.text)


def _offer(reading: Reading, t: Turn) -> None:
    offer(t, reading)


def _short_answer(reading: Reading, t: Turn) -> object:
    """'1' to an offer, '满意' to a rating prompt; when nothing waits for an answer, an ordinary message."""
    msg = t.msg
    prompt = t.uow.outbox.sent_as(msg.channel, msg.chat_id, msg.reply_to) if msg.reply_to else None
    yes = parse_offer_answer(msg.text)
    pending = t.uow.ledger.pending_offer(t.person.id, msg.channel, msg.chat_id, t.now)
    if pending is not None and yes is not None:
        answer_offer(t, pending, yes)
        return None
    if prompt is not None and prompt.purpose == "offer":
        # An answer to an offer that is not waiting for this person: lapsed, or put to someone else. Never a score.
        if yes is not None and msg.sender_id in prompt.mention_ids:
            return t.reply("offer.expired")
        return IGNORED
    rating = parse_rating(msg.text)
    request = _rating_target(t, prompt) if rating else None
    if request is not None:
        rate(t, request, *rating)
        return None
    action = _ordinary(reading, msg)  # "一般楼道灯都不亮" reads like 一般 (a 3) but is a report
    return action(t) if action is not None else IGNORED


def _rating_target(t: Turn, prompt: Outbox | None) -> Request | None:
    """The request a score is for: the one whose rating prompt was answered, else the sender's waiting one here."""
    if prompt is not None and prompt.purpose == "rate" and prompt.request_id:
        return t.uow.requests.get(prompt.request_id)
    msg = t.msg
    waiting = t.uow.requests.awaiting_rating_from(t.person.id)
    if not msg.is_private:
        waiting = [r for r in waiting if r.channel == msg.channel and r.source_chat == msg.chat_id]
    return waiting[0] if waiting else None


def _answer(key: str, params: dict, t: Turn) -> None:
    labels = {"state": "state", "action": "verb", "command": "command"}
    t.reply(key, **{k: t.svc.catalog.label(t.lang, labels[k], v) if k in labels else v for k, v in params.items()})


def _keep_and_apologise(t: Turn) -> None:
    """Something broke: keep what the resident sent so a person can pick it up, and say so politely."""
    msg = t.msg
    t.uow.ledger.add_offer(Offer(channel=msg.channel, chat_id=msg.chat_id, person_id=t.person.id, text=msg.text,
                                 message_id=msg.message_id, status="failed", created_at=t.now, expires_at=t.now))
    t.reply("error.internal")
