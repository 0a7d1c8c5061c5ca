"""What every handler is given: the long-lived services and the one turn being handled."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers import permissions
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

    def staff_role(self, person: Person | None = None) -> str | None:
        """The staff role (grid_member, leader, secretary) of a person, else None."""
        person = person or self.person
        return person.role if person and person.role in STAFF_ROLES else None

    def may_manage(self, request: Request, person: Person | None = None) -> bool:
        """Only the assignee and the escalation ladder (leader, secretary) may act on a request."""
        person = person or self.person
        return person is not None and not permissions.MANAGE.isdisjoint(permissions.relations(self, person, request))
