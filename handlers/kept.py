"""Kept messages: what a resident sent when handling it failed, shown to the leader and secretary until handled."""
from __future__ import annotations

from handlers import permissions
from handlers.commands import Command
from handlers.context import Turn
from handlers.errors import BadCommand, NotFound
from handlers.views import local_time

SHOWN = 5  # the oldest first (two lines each); a longer list says how many more wait
QUOTED = 80  # characters of each message quoted: a list stays one screen whatever a resident wrote


def kept_lines(t: Turn, lang: str, shown: int = SHOWN) -> list[str]:
    """Lines for 我的 of the leader or secretary, and the digest: the kept messages not yet handled, the oldest
    `shown` of them, and how many more wait."""
    kept, total = t.uow.ledger.kept_messages(shown)
    if not total:
        return []
    lines = [t.say.text(lang, "kept.head", count=total)]
    for offer in kept:
        person = t.uow.people.get(offer.person_id)
        lines.append(t.say.text(lang, "kept.line", number=offer.id, at=local_time(t, offer.created_at),
                                name=person.name if person else "-", text=_quoted(offer.text)))
    if total > len(kept):
        lines.append(t.say.text(lang, "kept.more", count=total - len(kept)))
    return lines


def settle(t: Turn, cmd: Command) -> None:
    """已处理 N: the leader or secretary took care of kept message N; it leaves the lists."""
    permissions.check(t, "settle")
    if cmd.number is None:
        raise BadCommand("error.number_missing", command=cmd.verb)
    if not t.uow.ledger.settle_kept(cmd.number):
        raise NotFound("kept.not_found", number=cmd.number)
    t.reply("kept.settled", number=cmd.number)


def _quoted(text: str) -> str:
    return text if len(text) <= QUOTED else text[:QUOTED - 1] + "…"
