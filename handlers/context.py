"""What every handler is given: the long-lived services and the one turn being handled."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.catalog import Catalog
from handlers.community import STAFF_ROLES, Community
from handlers.intake import Reader
from handlers.messages import Inbound
from handlers.say import Say
from storage.models import Identity, Person, Request
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Services:
    """Built once by build_app: the community, the texts and the reader."""

    community: Community
    catalog: Catalog
    reader: Reader


@dataclass
class Turn:
    """One unit of work: a message being handled or a follow-up firing."""

    svc: Services
    uow: UnitOfWork
    say: Say
    now: datetime
    msg: Inbound | None = None
    person: Person | None = None
    account: Identity | None = None  # the person's account on the message's channel

    @property
    def lang(self) -> str:
        """The language to answer the current person in."""
        return self.person.language if self.person else self.svc.community.community.language

    @property
    def community(self) -> Community:
        """The community from config."""
        return self.svc.community

    def reply(self, key: str, **params) -> None:
        """Answer the message being handled, in the sender's language."""
        self.say.reply(self.msg, self.lang, key, **params)

    def reply_in_private(self, key: str, pointer: str, pointer_params: dict, **params) -> None:
        """A list or a timeline: answered where asked in private; asked in a group, it goes to the private chat and
        the group hears only `pointer` (…sent, or …ask where there is no private chat to send it to)."""
        if self.msg.is_private:
            self.reply(key, **params)
            return
        reachable = self.uow.people.private_address(self.person.id) is not None
        if reachable:
            self.say.to_person(self.person, key, urgent=True, **params)  # asked for now, even in quiet hours
        self.reply(f"{pointer}{'sent' if reachable else 'ask'}", **pointer_params)

    def staff_role(self, person: Person | None = None) -> str | None:
        """The staff role (grid_member, leader, secretary) of a person, else None."""
        person = person or self.person
        return person.role if person and person.role in STAFF_ROLES else None

    def may_manage(self, request: Request, person: Person | None = None) -> bool:
        """The assignee, the member of the request's grid (who answers for it even while a volunteer or a
        colleague holds it), the escalation ladder (leader, secretary) and the secretary may act on a request."""
        person = person or self.person
        if person is None or person.staff_id is None:
            return False
        grid = self.community.grid(request.grid) if request.grid else None
        return (person.id == request.assignee_id or person.role in ("leader", "secretary")
                or person.staff_id in self.community.escalation
                or (grid is not None and grid.member == person.staff_id))

    def may_see(self, request: Request, person: Person | None = None) -> bool:
        """Who may read a request's details: whoever may act on it, its reporter, those its category informs (the
        property desk), and, while a micro-wish waits to be claimed, the grid's volunteers it was offered to."""
        person = person or self.person
        if person is None:
            return False
        if person.id == request.reporter_id or self.may_manage(request, person):
            return True
        if person.staff_id is not None and person.staff_id in self.community.categories[request.category].inform:
            return True
        grid = self.community.grid(request.grid) if request.grid else None
        return (grid is not None and request.kind == "wish" and request.state == "assigned"
                and person.staff_id in grid.volunteers)
