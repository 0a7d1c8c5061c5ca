"""Short answers to the bot's prompts: a yes or no to its offer to file, a score to its rating prompt."""
from __future__ import annotations

import unicodedata
from datetime import timedelta

from handlers.actions import IGNORED, Action
from handlers.commands import is_verdict, parse_rating
from handlers.context import Turn
from handlers.errors import UserError
from handlers.filing import answer_offer
from handlers.intake import Reading
from handlers.offer_words import parse_offer_answer, read_offer_answer, says_file
from handlers.rating import named_request, rate, waiting_for
from storage.models import Outbox, Request

OFFER_WORDS_WINDOW = timedelta(minutes=15)  # "好的登记吧" answers an offer made just now, not one of this morning


def short_answer(reading: Reading, text: str, otherwise: Action | None, t: Turn) -> object:
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
    numbered = unicodedata.normalize("NFKC", text).strip() in ("1", "2")
    sure = pending is not None and (says_file(text) or numbered and pending.status == "pending")
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

