"""A photo or a voice message sent without words: kept with the report the sender just made, never dropped silently.

The bot cannot read a picture or listen to a voice message, so it does not guess what they report. One sent in the
chat where the sender reported something in the last half hour belongs to that report: it goes into its timeline
and to its grid member (a picture is forwarded, a voice message is there to be heard on the platform). A voice
message is answered privately: kept for the grid member, or, with no report to keep it with, please type it. In a
group a voice message or photo that follows no report of the sender's is neighbours talking, and left alone.
"""
from __future__ import annotations

from datetime import timedelta

from handlers import news
from handlers.context import Turn
from handlers.views import ref
from storage.models import Request

RECENT = timedelta(minutes=30)


def without_words(t: Turn) -> bool:
    """Keep a wordless photo or voice message with the sender's report, and answer a voice message; False when
    it is chatter after all (a photo in a group that follows no report of the sender's)."""
    msg = t.msg
    voice = any(":voice:" in a for a in msg.attachments)
    request = _just_reported(t)
    if request is not None:
        news.tell(t, request, "detail", None, attachments=list(msg.attachments))
    if voice and (request is not None or msg.is_private):
        key = "voice.kept" if request is not None else "voice.type_it"
        params = {"ref": ref(t, request, t.lang)} if request is not None else {}
        if msg.is_private or t.say.address(t.person) is None:
            t.reply(key, **params)
        else:
            t.say.to_person(t.person, key, urgent=True, request=request, **params)
    elif request is None:
        if not msg.is_private:
            return False
        t.reply("help.photo_only")
    return True


def _just_reported(t: Turn) -> Request | None:
    """The sender's open request reported (or followed) in this chat within RECENT, the latest."""
    msg = t.msg
    mine = [r for r in t.uow.requests.open_own_since(t.person.id, t.now - RECENT)
            if r.channel == msg.channel and (msg.is_private or r.source_chat == msg.chat_id)]
    return mine[0] if mine else None
