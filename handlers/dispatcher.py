"""The dispatcher: decide what an inbound message is, then handle it in one transaction, exactly once."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial

from handlers import binding, chasing, digest, kept, language, media, reach, residents, signin, staff
from handlers.clock import Clock
from handlers.commands import (OFFER_ANSWER_MAX, Command, is_greeting, is_status_question, is_thanks, is_verdict,
                               parse_command, parse_offer_answer, parse_rating, read_offer_answer, says_file)
from handlers.context import Services, Turn
from handlers.errors import NotAllowed, UserError
from handlers.filing import answer_offer, file_request, offer
from handlers.intake import Reading
from handlers.messages import Inbound
from handlers.rating import named_request, rate, waiting_for
from handlers.say import Say, SayOnPage
from handlers.views import ref
from storage.db import Database, is_transient, retry_conflicts
from storage.models import Offer, Outbox, Request
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
IGNORED = object()
OFFER_WORDS_WINDOW = timedelta(minutes=15)  # "好的登记吧" answers an offer made just now, not one of this morning

STAFF_VERBS = {"claim": staff.claim, "progress": staff.progress, "done": staff.done, "transfer": staff.transfer,
               "escalate": staff.escalate, "merge": staff.merge, "reject": staff.reject,
               "settle": kept.settle}
EVERYONE_VERBS = {"show": staff.show, "mine": residents.mine, "overdue": digest.overdue_command,
                  "digest": digest.digest_command,
                  "withdraw": residents.withdraw, "add": residents.add_detail, "rate": residents.rate_command,
                  "bind": binding.bind, "bindchat": binding.bind_chat, "lang": language.choose,
                  "web": signin.web_link}
Action = Callable[[Turn], object]


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
            self._run(msg, partial(_answer, error.key, error.params))
        except Exception as error:
            if is_transient(error):  # the database away or cut off for a moment: the caller keeps it to retry
                raise
            log.exception("handling failed: channel=%s chat=%s message=%s", msg.channel, msg.chat_id, msg.message_id)
            self._run(msg, _keep_and_apologise)
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
            return partial(_command, Command("help")) if msg.is_private else partial(_answer, "help.greeting", {})
        reading = self.svc.reader.read(text, mentioned=mentioned)
        action = _ordinary(reading, msg, text)
        if not msg.is_private and not reading.tagged and (reading.confident or chasing.may_be_about_own(text)):
            action = partial(_about_own, reading, text, action)  # her own request's business, else as before
        # Storage is looked at for an answer to a prompt: in private any words may be one; in a group only those
        # that answer by themselves ("1", "好的") or speak of filing ("好的登记吧"), not every short line with a
        # 好 or 要 in it ("好冷啊"): chatter is screened out without touching storage.
        answer = read_offer_answer(text) if msg.is_private or says_file(text) else parse_offer_answer(text)
        short = answer is not None or parse_rating(text) is not None
        if msg.reply_to or msg.quoted or short and (msg.is_private or len(text) <= OFFER_ANSWER_MAX):
            return partial(_short_answer, reading, text, action)  # an answer to a prompt, else as before
        return action

    def act(self, person_id: int, text: str, form_id: str) -> list[str]:
        """A command a staff member gave on the web workbench (办结 37 …), run as her through the same handlers,
        permissions and outbox as in chat; returns what the bot answers her, for the page to show. `form_id` makes
        a form sent twice act once."""
        msg = Inbound(channel="web", chat_id=f"person:{person_id}", chat_kind="private",
                      sender_id=f"person:{person_id}", sender_name="", text=text, message_id=form_id)
        cmd = parse_command(text, private=True)
        action = partial(_command, cmd) if cmd is not None else _hint
        try:
            return retry_conflicts(partial(self._on_page, person_id, msg, action))
        except UserError as error:
            return retry_conflicts(partial(self._on_page, person_id, msg, partial(_answer, error.key, error.params)))

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
        return partial(_answer, key, {})
    if reading.urgent or reading.tagged and (reading.kind != "none" or msg.attachments):
        return partial(_file, reading)  # a photo said to the bot shows what is wrong
    if msg.is_private and (reading.kind != "none" or not is_thanks(text)):
        return partial(_said_privately, reading, text)
    if reading.tagged and is_status_question(text):  # "@小区助手 电梯修好了吗": her list, privately
        return partial(_command, Command("mine"))
    if reading.tagged or msg.is_private:  # said to the bot, yet no problem: "@小区助手 谢谢" is never filed
        return partial(_answer, "help.thanks", {}) if is_thanks(text) else _hint
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
    if reading.kind != "none" and (reading.confident or reading.urgent):
        _file(reading, t)
    elif reading.kind != "none":  # it may be a request, or only talk ("暖气热得猫都不出门了"): asked, not filed
        offer(t, reading)
    elif is_status_question(text) or _asks_about(reading, text, t):  # "电梯修好了吗", "电梯？？？": her list
        EVERYONE_VERBS["mine"](t, Command("mine"))
    else:
        _hint(t)


def _hint(t: Turn) -> None:
    """Words the bot cannot act on: how to say what it can, as a resident or as staff (a volunteer's "她住几楼啊
    怎么联系" answered with how to file a complaint helped nobody)."""
    t.reply("help.hint_staff" if t.person.staff_id else "help.hint")


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
    """Group words about the sender's own request (a chase, a score, a "me too"); else what they were before."""
    if binding.known_chat(t, t.msg.channel, t.msg.chat_id) and chasing.about_own(t, reading, text):
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


def _short_answer(reading: Reading, text: str, otherwise: Action | None, t: Turn) -> object:
    """'1' or '好的登记吧' to an offer, '满意' to a rating prompt; when nothing waits for an answer, what it was
    otherwise. An offer's words the bot cannot read are asked again, never met with silence."""
    msg = t.msg
    prompt = t.uow.outbox.sent_as(msg.channel, msg.chat_id, msg.reply_to) if msg.reply_to else None
    to_offer = prompt is not None and prompt.purpose == "offer"
    bare = parse_offer_answer(text)
    # "3号楼电梯也要修" is a report of its own with a 要 in it, not "要" to the offer
    yes = read_offer_answer(text) if bare is not None or reading.kind == "none" else None
    pending = t.uow.ledger.pending_offer(t.person.id, msg.channel, msg.chat_id, t.now)
    if pending is None and yes:  # "2", then "算了 还是登记一下吧": she changed her mind
        pending = t.uow.ledger.declined_offer(t.person.id, msg.channel, msg.chat_id, t.now)
    # A vague yes ("好", "嗯嗯") answers an offer said to her just now, or one she replies to; words of filing
    # ("登记吧"), or a bare "1" to one she has not answered yet, answer it all the while it stands. So "好冷啊"
    # hours later files nothing, and a later score of 1 is not taken for an offer she declined.
    fresh = pending is not None and (to_offer or t.now - pending.created_at <= OFFER_WORDS_WINDOW)
    sure = pending is not None and (says_file(text) or bare is not None and pending.status == "pending")
    if pending is not None and yes is not None and (fresh or sure):
        answer_offer(t, pending, yes)
        return None
    if to_offer and pending is None and yes is not None:
        # An answer to an offer that is not waiting for this person: lapsed, or put to someone else. Never a score.
        if msg.sender_id in prompt.mention_ids:
            raise UserError("offer.expired")  # 登记 two days on: refused, so the prompt shows no ✓
        return IGNORED
    rating = parse_rating(text) if not to_offer else None
    request = _rating_target(t, prompt) if rating else None
    if request is not None:
        rate(t, request, *rating)
        return None
    if rating and _unasked_verdict(t, reading):
        return t.reply("rating.none_waiting")
    # "一般楼道灯都不亮" reads like 一般 (a 3) but is a report; "我也闻到了" answers no prompt
    done = otherwise(t) if otherwise is not None else IGNORED
    if done is IGNORED and fresh and pending.status == "pending":
        return _ask_again(t)
    return done


def _ask_again(t: Turn) -> None:
    t.say.reply(t.msg, t.lang, "offer.again", purpose="offer", choices=(("choice.file", "1"), ("choice.skip", "2")))


def _rating_target(t: Turn, prompt: Outbox | None) -> Request | None:
    """The request a score is for: the one the answered message is about (a reply to it, or a quote naming it, as
    WeChat quotes), else the sender's waiting one here. Never another than the one she answered."""
    msg = t.msg
    number = prompt.request_id if prompt is not None else named_request(t.svc.catalog, msg.quoted or "")
    if number:
        return t.uow.requests.get(number)
    waiting = waiting_for(t)  # the most recently asked first: she answers the prompt she just read
    if not msg.is_private:
        waiting = [r for r in waiting if r.channel == msg.channel and r.source_chat == msg.chat_id]
    return waiting[0] if waiting else None


def _unasked_verdict(t: Turn, reading: Reading) -> bool:
    """A score said to the bot with nothing waiting for one ('不满意 还是不热'): answered, never filed as a report.

    An emergency is still a report; a score said in a group to nobody in particular stays chatter.
    """
    msg = t.msg
    quotes_bot = msg.quoted and named_request(t.svc.catalog, msg.quoted)  # not a neighbour's words
    to_bot = msg.is_private or msg.reply_to or msg.mentions_bot or quotes_bot
    return bool(to_bot and not reading.urgent and is_verdict(msg.text)
                and not waiting_for(t))


def _answer(key: str, params: dict, t: Turn) -> None:
    labels = {"state": "state", "action": "verb", "command": "command"}
    params = {k: t.svc.catalog.label(t.lang, labels[k], v) if k in labels else v for k, v in params.items()}
    request = t.uow.requests.get(params["number"]) if params.get("number") is not None else None
    if request is not None:  # named as filed: 微心愿#2 to the volunteer who tried to claim it
        params["ref"] = ref(t, request, t.lang)
    t.reply(key, **params)


def _keep_and_apologise(t: Turn) -> None:
    """Something broke: keep what the resident sent so a person can pick it up, and say so politely."""
    msg = t.msg
    t.uow.ledger.add_offer(Offer(channel=msg.channel, chat_id=msg.chat_id, person_id=t.person.id, text=msg.text,
                                 message_id=msg.message_id, status="failed", created_at=t.now, expires_at=t.now))
    t.reply("error.internal")
