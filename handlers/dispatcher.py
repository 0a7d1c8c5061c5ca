"""The dispatcher: decide what an inbound message is, then handle it in one transaction, exactly once."""
from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial

from handlers import binding, chasing, digest, kept, language, media, reach, residents, signin, staff
from handlers.actions import IGNORED, Action, answer_with, hint, keep_and_apologise
from handlers.answers import short_answer
from handlers.clock import Clock
from handlers.commands import Command, is_greeting, is_status_question, is_thanks, parse_command, parse_rating
from handlers.context import Services, Turn
from handlers.errors import NotAllowed, UserError
from handlers.filing import file_request, offer
from handlers.intake import Reading
from handlers.messages import Inbound
from handlers.offer_words import OFFER_ANSWER_MAX, parse_offer_answer, read_offer_answer, says_file
from handlers.say import Say, SayOnPage
from storage.db import Database, is_transient, retry_conflicts
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

STAFF_VERBS = {"claim": staff.claim, "progress": staff.progress, "done": staff.done, "transfer": staff.transfer,
               "escalate": staff.escalate, "merge": staff.merge, "reject": staff.reject,
               "settle": kept.settle}
EVERYONE_VERBS = {"show": staff.show, "mine": residents.mine, "overdue": digest.overdue_command,
                  "digest": digest.digest_command,
                  "withdraw": residents.withdraw, "add": residents.add_detail, "rate": residents.rate_command,
                  "bind": binding.bind, "bindchat": binding.bind_chat, "lang": language.choose,
                  "web": signin.web_link}


class Dispatcher:
    """Handles every inbound message of every channel."""

    def __init__(self, services: Services, db: Database, clock: Clock) -> None:
        self.svc, self.db, self.clock = services, db, clock

    def handle(self, msg: Inbound) -> bool | None:
        """Handle one message; chatter touches no storage at all. True if it did what was asked (a pressed
        button's prompt then shows ✓), False if it was refused, ignored or failed, None for chatter."""
        action = self.screen(msg)
        if action is None:
            return None
        try:
            return self._run(msg, action)
        except UserError as error:
            self._run(msg, partial(answer_with, error.key, error.params))
        except Exception as error:
            if is_transient(error):  # the database away or cut off for a moment: the caller keeps it to retry
                raise
            log.exception("handling failed: channel=%s chat=%s message=%s", msg.channel, msg.chat_id, msg.message_id)
            self._run(msg, keep_and_apologise)
        return False

    def screen(self, msg: Inbound) -> Action | None:
        """What to do with a message, decided without storage; None for chatter to ignore."""
        if msg.moved_from is not None:
            return partial(_moved, msg.moved_from)
        text, named = self.svc.reader.without_mention(msg.text)
        mentioned = msg.mentions_bot or named
        if not text and msg.attachments:  # a photo or voice message alone: kept with her report, or chatter
            return _without_words
        if not text and not mentioned:
            return None
        # Said to the bot, a command counts as in private; a binding code said in a group is caught (and voided).
        cmd = binding.screened(parse_command(text, private=msg.is_private or mentioned), msg, self.svc.community)
        if cmd is not None:
            return partial(_command, cmd)
        if (msg.is_private or mentioned) and is_greeting(text):  # the welcome in private, a short hello in a group
            return partial(_command, Command("help")) if msg.is_private else partial(answer_with, "help.greeting", {})
        reading = self.svc.reader.read(text, mentioned=mentioned)
        action = _ordinary(reading, msg, text)
        if not msg.is_private and not reading.tagged and (reading.confident or reading.mostly_place
                                                          or chasing.may_be_about_own(text)):
            action = partial(_about_own, reading, text, action)  # her own request's business, else as before
        # Storage is looked at for an answer to a prompt: in private any words may be one; in a group only those
        # that answer by themselves ("1", "好的") or speak of filing ("好的登记吧"), not every short line with a
        # 好 or 要 in it ("好冷啊"): chatter is screened out without touching storage.
        answer = read_offer_answer(text) if msg.is_private or says_file(text) else parse_offer_answer(text)
        short = answer is not None or parse_rating(text) is not None
        if msg.reply_to or msg.quoted or short and (msg.is_private or len(text) <= OFFER_ANSWER_MAX):
            return partial(short_answer, reading, text, action)  # an answer to a prompt, else as before
        return action

    def act(self, person_id: int, text: str, form_id: str) -> list[str]:
        """A command a staff member gave on the web workbench (办结 37 …), run as her through the same handlers,
        permissions and outbox as in chat; returns what the bot answers her, for the page to show. `form_id` makes
        a form sent twice act once."""
        msg = Inbound(channel="web", chat_id=f"person:{person_id}", chat_kind="private",
                      sender_id=f"person:{person_id}", sender_name="", text=text, message_id=form_id)
        cmd = parse_command(text, private=True)
        action = partial(_command, cmd) if cmd is not None else hint
        try:
            return retry_conflicts(partial(self._on_page, person_id, msg, action))
        except UserError as error:
            return retry_conflicts(partial(self._on_page, person_id, msg,
                                           partial(answer_with, error.key, error.params)))

    def _on_page(self, person_id: int, msg: Inbound, action: Action) -> list[str]:
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
            if not uow.ledger.first_delivery(msg.channel, msg.message_id, now):
                return []
            say = SayOnPage(uow, self.svc.catalog, self.svc.community, now, self.svc.running)
            action(Turn(self.svc, uow, say, now, msg, uow.people.get(person_id)))
            uow.commit()
            return say.answers

    def _run(self, msg: Inbound, action: Action) -> bool:
        return retry_conflicts(partial(self._transaction, msg, action))

    def _transaction(self, msg: Inbound, action: Action) -> bool:
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
            if not uow.ledger.first_delivery(msg.channel, msg.message_id, now):
                return False
            spoken = language.detect(msg.text)
            person, account = uow.people.met(  # a new person is met in the language of her first words
                msg.channel, msg.sender_id, msg.sender_name,
                language=language.first_words(msg.text, private=msg.is_private),
                private_chat=msg.chat_id if msg.is_private else msg.sender_chat, at=now)
            language.heard(person, spoken)
            say = Say(uow, self.svc.catalog, self.svc.community, now, self.svc.running)
            turn = Turn(self.svc, uow, say, now, msg, person, account)
            if not msg.is_private:
                uow.chats.heard_from(msg.channel, msg.chat_id)  # a group once lost has the bot back
            if msg.is_private and person.staff_id is not None:
                turn.say.release(person)  # writing privately makes them reachable: what waited for them goes now
            if action(turn) is IGNORED:
                return False
            uow.commit()
            return True


def _ordinary(reading: Reading, msg: Inbound, text: str) -> Action | None:
    """What to do with a message that is neither a command nor an answer; None for chatter."""
    if reading.tagged and reading.says_nothing and not msg.attachments and not is_thanks(text):  # "@小区助手" alone
        key = {"complaint": "error.empty_report", "wish": "error.empty_wish"}.get(reading.kind, "help.mention_only")
        return partial(answer_with, key, {})
    if reading.urgent or reading.tagged and (reading.kind != "none" or msg.attachments):
        return partial(_file, reading)  # a photo said to the bot shows what is wrong
    if msg.is_private and (reading.kind != "none" or not is_thanks(text)):
        return partial(_said_privately, reading, text)
    if reading.tagged and is_status_question(text):  # "@小区助手 电梯修好了吗": her list, privately
        return partial(_command, Command("mine"))
    if reading.tagged or msg.is_private:  # said to the bot, yet no problem: "@小区助手 谢谢" is never filed
        return partial(answer_with, "help.thanks", {}) if is_thanks(text) else hint
    if reading.confident:
        return partial(_offer, reading)
    return None


def _said_privately(reading: Reading, text: str, t: Turn) -> None:
    """Untagged private words: the reason for a low score she was just asked for, else a report (asked about first
    when the reader is not sure it is one), else a hint.

    "不满意", then "还是一闪一闪的" reads like a new report but answers "哪里不满意？"; she is told how to file it
    as a new one if it was.
    """
    if residents.reason_after_score(t, reading, text):
        return
    if chasing.about_own(t, reading, text):  # "灯还是不亮", "到底什么时候修", "…给个3分吧": not a new request
        return
    if residents.placed(t, reading, text):  # "2单元301", the grid member's question answered
        return
    if reading.kind != "none" and (reading.confident or reading.urgent):
        _file(reading, t)
    elif reading.kind != "none":  # it may be a request, or only talk ("暖气热得猫都不出门了"): asked, not filed
        offer(t, reading)
    elif is_status_question(text) or _asks_about(reading, text, t):  # "电梯修好了吗", "电梯？？？": her list
        EVERYONE_VERBS["mine"](t, Command("mine"))
    else:
        hint(t)


def _asks_about(reading: Reading, text: str, t: Turn) -> bool:
    """'电梯？？？': a question naming only what it is about, asks how hers of it stands."""
    return text.rstrip().endswith(("?", "？")) and chasing.named_category(t, reading, text) not in (None, "other")


def _command(cmd: Command, t: Turn) -> None:
    if cmd.verb == "help":
        t.reply(binding.help_key(t.person.role))
    elif cmd.verb == "progress" and not cmd.rest and t.person.staff_id is None:
        EVERYONE_VERBS["show"](t, replace(cmd, verb="show"))  # a resident's "进度 14" asks for it, not adds to it
    elif cmd.verb in STAFF_VERBS:
        if t.person.staff_id is None:
            raise NotAllowed("error.staff_only")
        STAFF_VERBS[cmd.verb](t, cmd)
    else:
        EVERYONE_VERBS[cmd.verb](t, cmd)


def _about_own(reading: Reading, text: str, otherwise: Action | None, t: Turn) -> object:
    """Group words about the sender's own request (a chase, a score, a "me too", where it is); else what they were
    before."""
    here = binding.known_chat(t, t.msg.channel, t.msg.chat_id)
    if here and (chasing.about_own(t, reading, text) or not reading.urgent and residents.placed(t, reading, text)):
        return None
    return otherwise(t) if otherwise is not None else IGNORED


def _moved(old: str, t: Turn) -> None:
    reach.chat_moved(t, t.msg.channel, old, t.msg.chat_id)


def _without_words(t: Turn) -> object:
    return None if media.without_words(t) else IGNORED


def _file(reading: Reading, t: Turn) -> None:
    if not t.msg.is_private and not binding.known_chat(t, t.msg.channel, t.msg.chat_id):
        binding.unbound_report(t, reading)
        return
    file_request(t, reading, t.msg.text)


def _offer(reading: Reading, t: Turn) -> object:
    if not t.msg.is_private and not binding.known_chat(t, t.msg.channel, t.msg.chat_id):
        return IGNORED  # untagged talk in a group that is not the community's: no offer to file it for nobody
    return offer(t, reading)
