"""When a chat can no longer be reached (bot blocked, removed from a group), the people responsible are told; a
group that moved to a new id is followed there without telling anyone."""
from __future__ import annotations

from handlers.binding import chat_buildings
from handlers.context import Turn
from handlers.views import ref

PURPOSE = "reach"


def chat_lost(t: Turn, channel: str, chat_id: str, *, person_id: int | None, request_id: int | None,
              purpose: str | None) -> None:
    """Tell the grid member (or the request's assignee) that a chat is unreachable; never about these notices.

    A staff member's notice is held (see Say.to_person): it goes to another private chat of theirs if there is
    one, else the leader and the secretary hear of it once, however many notices wait.
    """
    person = t.uow.people.get(person_id) if person_id is not None else None
    if person is not None and person.staff_id is not None:
        if not t.say.release(person) and len(t.uow.outbox.held_for(person.id)) == 1:
            t.say.unreachable(person)
        return
    account = t.uow.people.identity_on(person_id, channel) if person_id is not None else None
    if account is None or account.private_chat != chat_id:  # a group, perhaps a resident mentioned in it
        return _group_lost(t, channel, chat_id)
    if purpose == PURPOSE:
        return  # a notice about a lost chat was itself lost: telling again could loop
    request = t.uow.requests.get(request_id) if request_id else None
    assignee = t.uow.people.get(request.assignee_id) if request and request.assignee_id else None
    if assignee is not None and assignee.id != person_id:
        t.say.to_person(assignee, "reach.lost_person", urgent=True, purpose=PURPOSE,
                        ref=ref(t, request, assignee.language))


def chat_moved(t: Turn, channel: str, old: str, new: str) -> None:
    """A group now under a new id: it keeps its buildings, and what waited for it is sent there. Nobody is told."""
    t.uow.chats.moved(channel, old, new, list(chat_buildings(t, channel, old)), t.now)
    t.uow.outbox.move_chat(channel, old, new, t.now)


def _group_lost(t: Turn, channel: str, chat_id: str) -> None:
    """Mark the group lost, drop what waits for it, and tell its grid members, all once."""
    if not t.uow.chats.lost(channel, chat_id, t.now):
        return
    t.uow.outbox.drop_chat(channel, chat_id, "unreachable: the bot cannot post in this group")
    grids = (t.community.grid_of_building(b) for b in chat_buildings(t, channel, chat_id))
    staff_ids = list(dict.fromkeys(g.member for g in grids if g)) or t.community.escalation[:1]
    chat = t.community.chat(channel, chat_id)
    for staff_id in staff_ids:
        person = t.uow.people.by_staff_id(staff_id)
        if person is not None:
            t.say.to_person(person, "reach.lost_group", urgent=True, purpose=PURPOSE,
                            chat=chat.name if chat else chat_id)
