"""A resident's words about requests she already has: a score within a sentence, "still broken", a chase, a "me too".

Such words read like a new report ("楼道灯到底什么时候修啊", "灯还是不亮"), but filing them anew would give her a
second number nobody works on and leave the first one waiting: they belong to the request they are about.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from handlers import binding, news
from handlers.commands import Command, find_rating, is_chase, is_status_question, says_me_too, says_not_fixed
from handlers.context import Turn
from handlers.intake import Reading
from handlers.rating import named_request, rate, waiting_for
from handlers.views import about, ref
from storage.models import Request
from storage.requests import OPEN_STATES

URGENT_FRESH = timedelta(hours=1)  # "+1", "我也闻到了" just after an emergency in the building are about it
OWN_WINDOW = timedelta(days=60)  # a request she chases is one of this season, not one from years ago
_BARE = re.compile(r"^\s*([+]\s*1|同(上|问|样)?|我也是)\s*$")  # says what only next to what it answers


NAMED_FROM = 2 / 1.5  # a category's usual word (weight 2, scaled as the reader scales it): "漏水", "电梯", "灯"


def named_category(t: Turn, reading: Reading, text: str) -> str | None:
    """The category the words are about: the reader's, else the one a usual word of it names, though the words
    report nothing ("漏水的事到底有没有人管啊", "电梯修好了吗", "is anyone fixing the lift??")."""
    if reading.category not in (None, "other"):
        return reading.category
    scores = {name[4:]: value for name, value in t.svc.reader.features(text).items()
              if name.startswith("lex:") and name[4:] not in ("problem", "wish", "chatter", "help")}
    best = max(scores, key=scores.get, default=None)
    return best if best is not None and scores[best] >= NAMED_FROM else reading.category


def may_be_about_own(text: str) -> bool:
    """Whether group words could be about the sender's own request (decided without storage: chatter stays out)."""
    return bool(find_rating(text) or says_not_fixed(text) or is_chase(text) or is_status_question(text)
                or says_me_too(text) or _MISTAKEN.search(text))


def about_own(t: Turn, reading: Reading, text: str) -> bool:
    """Handle words about her own requests: True if they were, else the caller files, offers or hints as before."""
    if reading.urgent:  # someone in danger is a report, whatever else it says
        return False
    return (_mistaken(t, text) or _scored(t, reading, text) or _chased(t, reading, text)
            or _joined(t, reading, text))


# "不是不是 开玩笑的", "搞错了 没事了", "sorry false alarm": an emergency she just reported was none.
_MISTAKEN = re.compile(r"开玩笑|闹着玩|搞错了|弄错了|看错了|发错了|报错了|误报|不是真的|虚惊|没事了|没事没事"
                       r"|false alarm|my mistake|just kidding|never ?mind", re.IGNORECASE)


def _mistaken(t: Turn, text: str) -> bool:
    """Words taking back an emergency she reported within the hour: her words reach whoever was alerted, and she
    is told how to withdraw it (it stays open: someone else may be in danger all the same)."""
    if not _MISTAKEN.search(text):
        return False
    fresh = [r for r in t.uow.requests.open_own_since(t.person.id, t.now - URGENT_FRESH)
             if r.urgent and r.reporter_id == t.person.id and here(t, r)]
    if not fresh:
        return False
    news.tell(t, fresh[0], "detail", text, urgent=True, message_id=t.msg.message_id)
    t.reply("resident.withdraw_how", ref=ref(t, fresh[0], t.lang), number=fresh[0].id)
    return True


def _scored(t: Turn, reading: Reading, text: str) -> bool:
    """A score within a sentence, or "still not fixed", from someone asked to rate: that request is rated.

    "灯还是不亮 根本没人来换" is 不满意 with her words as the reason (the request reopens and its assignee hears
    them); "…就是还有异响 给个3分吧" is a 3 with the rest as her comment. With several asked, the one of the same
    category, else the latest asked; "still broken" with several and no telling which is asked back.
    """
    rating, not_fixed = find_rating(text), says_not_fixed(text)
    if rating is None and not not_fixed:
        return False
    waiting = [r for r in waiting_for(t) if here(t, r)]
    same = [r for r in waiting if _same_problem(reading, r)]
    if not waiting or (rating is None and reading.category not in (None, "other") and not same):
        return False  # nothing asked of her here, or a new problem of another kind: filed as one
    candidates = same or waiting
    if rating is None:
        if len(candidates) > 1:
            refs = "、".join(ref(t, r, t.lang) for r in candidates)
            t.reply("rating.which_not_fixed", refs=refs, number=candidates[0].id)
            return True
        rating = (1, text.strip())
    rate(t, candidates[0], *rating)
    return True


def _chased(t: Turn, reading: Reading, text: str) -> bool:
    """Her words about an open request of hers (same category, or her only one and a chase): added to it, the
    assignee hears them (coalesced as any detail), and she hears where it stands. A question of where it stands
    is only answered (_where_it_stands)."""
    category = named_category(t, reading, text)
    if is_status_question(text) and not is_chase(text):  # in private her list answers it, each with its state
        return not t.msg.is_private and _where_it_stands(t, reading, category)
    anywhere = t.uow.requests.open_own_since(t.person.id, t.now - OWN_WINDOW)
    own = [r for r in anywhere if here(t, r)]
    # Named by its category, her request is hers wherever she asks: her late leak at her mother's in building 5,
    # chased in her own building's group, reaches its grid member too.
    same = [r for r in own if _same_problem(reading, r, category)] or [
        r for r in anywhere if _same_problem(reading, r, category) and is_chase(text)]
    if not own and not same:
        return False
    unnamed = category in (None, "other") and not reading.building
    # Her only request and words that press about it: in private they are said to the bot; in a group only
    # "still broken" counts ("我还没吃饭" is chatter, and a status question there is answered below).
    pressing = is_chase(text) if t.msg.is_private else says_not_fixed(text)
    if not same and len(own) == 1 and unnamed and pressing:
        same = own
    if same:
        request = same[0]
        news.tell(t, request, "detail", text, attachments=list(t.msg.attachments), message_id=t.msg.message_id)
        t.reply("resident.chased", **about(t, request, t.lang))
        return True
    return not t.msg.is_private and is_status_question(text) and _where_it_stands(t, reading, category)


def _where_it_stands(t: Turn, reading: Reading, category: str | None) -> bool:
    """'电梯修好了吗' in a group: how her requests of the category asked about stand, a closed one too. No other
    request of hers is named there: with none of that category, or none named, her list goes privately."""
    recent = [r for r in t.uow.requests.own_since(t.person.id, t.now - OWN_WINDOW)
              if here(t, r) and r.state != "merged"]
    asked = [r for r in recent if _same_problem(reading, r, category)]
    if not asked:
        still_open = [r for r in recent if r.state in OPEN_STATES]
        if category in (None, "other") and len(still_open) == 1:
            asked = still_open  # her one request here: the group may hear how it stands
        elif recent:
            from handlers.residents import mine  # residents builds on this module
            mine(t, Command("mine"))
            return True
        else:
            return False
    lines = [t.say.text(t.lang, "resident.state_closed" if r.state == "closed" else "resident.state_here",
                        **about(t, r, t.lang)) for r in asked]
    t.reply("resident.states_here", lines="\n".join(lines))
    return True


def _joined(t: Turn, reading: Reading, text: str) -> bool:
    """A neighbour's "+1" or "我家也停水了" in a group, answering the bot's acknowledgement or said while one
    complaint is open in the building: he follows it (told privately; the group hears nothing more)."""
    if t.msg.is_private or not says_me_too(text) or not binding.known_chat(t, t.msg.channel, t.msg.chat_id):
        return False
    request = _answered(t) or _urgent_nearby(t, reading)
    if request is None and not _BARE.match(unicodedata.normalize("NFKC", text)):
        buildings = (reading.building,) if reading.building else binding.chat_buildings(t, t.msg.channel,
                                                                                         t.msg.chat_id)
        since = t.now - t.community.schedule.duplicate_window
        found = [r for b in buildings for r in t.uow.requests.open_complaints_in(b, since)]
        found = [r for r in found if _same_problem(reading, r)] or found
        request = found[0] if len(found) == 1 else None
    if request is None or request.kind != "complaint" or request.state not in OPEN_STATES:
        return False
    follow(t, request, text)
    return True


def _urgent_nearby(t: Turn, reading: Reading) -> Request | None:
    """An emergency reported in the chat's buildings within the hour and still the newest report there (filed or
    offered): a "me too" said then confirms it, however many older complaints are open there."""
    buildings = (reading.building,) if reading.building else binding.chat_buildings(t, t.msg.channel, t.msg.chat_id)
    found = [r for b in buildings for r in t.uow.requests.open_complaints_in(b, t.now - URGENT_FRESH)]
    newest = max(found, key=lambda r: (r.created_at, r.id), default=None)
    if newest is None or not newest.urgent:
        return None
    # a neighbour's report the bot offered to file since then is what a "+1" now most likely answers
    return None if t.uow.ledger.offered_in(t.msg.channel, t.msg.chat_id, newest.created_at) else newest


def follow(t: Turn, request: Request, text: str | None) -> None:
    """Make the sender a follower of a neighbour's complaint: the assignee hears it (at once when urgent), he is
    told privately."""
    joined = t.person.id != request.reporter_id and t.uow.requests.follow(request.id, t.person.id, t.now)
    news.tell(t, request, "followed" if joined else "detail", text, urgent=request.urgent,
              attachments=list(t.msg.attachments))
    params = about(t, request, t.person.language)
    if t.msg.is_private or t.say.address(t.person) is None:
        t.reply("resident.now_following", **params)
    else:
        t.say.to_person(t.person, "resident.now_following", urgent=True, request=request, **params)


def _answered(t: Turn) -> Request | None:
    """The request of the bot message she replied to (or quoted), if any."""
    msg = t.msg
    prompt = t.uow.outbox.sent_as(msg.channel, msg.chat_id, msg.reply_to) if msg.reply_to else None
    number = prompt.request_id if prompt is not None else named_request(t.svc.catalog, msg.quoted or "")
    return t.uow.requests.get(number) if number else None


def _same_problem(reading: Reading, request: Request, category: str | None = None) -> bool:
    """Same category (the words' own, when they name one) and no other building named."""
    if reading.building and request.building and reading.building != request.building:
        return False
    category = category or reading.category
    return category not in (None, "other") and category == request.category


def here(t: Turn, request: Request) -> bool:
    """In private every request of hers counts; in a group only those of its buildings or filed there."""
    msg = t.msg
    if msg.is_private:
        return True
    if request.channel == msg.channel and request.source_chat == msg.chat_id:
        return True
    return request.building is not None and request.building in binding.chat_buildings(t, msg.channel, msg.chat_id)
