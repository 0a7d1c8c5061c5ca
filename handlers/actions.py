"""What the dispatcher decides to do with a message (an Action), and the plain ones: a hint, an answer, an apology."""
from __future__ import annotations

from collections.abc import Callable

from handlers.context import Turn
from handlers.views import ref
from storage.models import Offer

IGNORED = object()
Action = Callable[[Turn], object]


def hint(t: Turn) -> None:
    """Words the bot cannot act on: how to say what it can, as a resident or as staff (a volunteer's "她住几楼啊
    怎么联系" answered with how to file a complaint helped nobody)."""
    t.reply("help.hint_staff" if t.person.staff_id else "help.hint")


def answer_with(key: str, params: dict, t: Turn) -> None:
    """Answer with the catalog's text for `key` (a refusal, a help line): states, verbs and commands named in her
    language, a request by its reference."""
    labels = {"state": "state", "action": "verb", "command": "command"}
    params = {k: t.svc.catalog.label(t.lang, labels[k], v) if k in labels else v for k, v in params.items()}
    request = t.uow.requests.get(params["number"]) if params.get("number") is not None else None
    if request is not None:  # named as filed: 微心愿#2 to the volunteer who tried to claim it
        params["ref"] = ref(t, request, t.lang)
    t.reply(key, **params)


def keep_and_apologise(t: Turn) -> None:
    """Something broke: keep what the resident sent so a person can pick it up, and say so politely."""
    msg = t.msg
    t.uow.ledger.add_offer(Offer(channel=msg.channel, chat_id=msg.chat_id, person_id=t.person.id, text=msg.text,
                                 message_id=msg.message_id, status="failed", created_at=t.now, expires_at=t.now))
    t.reply("error.internal")
