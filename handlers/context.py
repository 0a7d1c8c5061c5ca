"""What every handler is given: the long-lived services and the one turn being handled."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from handlers import permissions
from handlers.catalog import Catalog
from handlers.community import STAFF_ROLES, Community
from handlers.intake import Reader
from handlers.messages import Inbound
from handlers.say import Say
from handlers.signin_links import SignInLinks
from storage.models import Identity, Person, Request
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Services:
    """Built once by build_app: the community, the texts and the reader."""

    community: Community
    catalog: Catalog
    reader: Reader
    links: SignInLinks | None = None  # the web workbench's sign-in links, when it runs
    running: frozenset[str] | None = None  # the channels this process sends on; None where none are wired


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
    # What views.about() made of a request, for each language and state of it: a batch of escalations says the
    # same request to five people, and it was the sweep's largest cost in Python.
    said_about: dict = field(default_factory=dict, repr=False)

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

    def reply_in_private(self, key: str, pointer: str, pointer_params: dict, attachments: tuple[str, ...] = (),
                         **params) -> None:
        """A list or a timeline: answered where asked in private; asked in a group, it goes to the private chat and
        the group hears only `pointer` (…sent, or …ask where there is no private chat to send it to)."""
        if self.msg.is_private:
            self.say.reply(self.msg, self.lang, key, attachments=attachments, **params)
            return
        reachable = self.say.address(self.person) is not None
        if reachable:  # asked for now, even in quiet hours
            self.say.to_person(self.person, key, urgent=True, attachments=attachments, **params)
        self.reply(f"{pointer}{'sent' if reachable else 'ask'}", **pointer_params)

    def staff_role(self, person: Person | None = None) -> str | None:
        """The staff role (grid_member, leader, secretary) of a person, else None."""
        person = person or self.person
        return person.role if person and person.role in STAFF_ROLES else None

    def may_manage(self, request: Request, person: Person | None = None) -> bool:
        """Who may act on a request: its assignee, the member of its grid (who answers for it even while a volunteer
        or a colleague holds it) and the escalation ladder (leader, secretary); see handlers/permissions.py."""
        person = person or self.person
        return person is not None and not permissions.MANAGE.isdisjoint(permissions.relations(self, person, request))

    def may_see(self, request: Request, person: Person | None = None) -> bool:
        """Who may read a request (详情): see the table in handlers/permissions.py."""
        person = person or self.person
        return person is not None and not permissions.TABLE["show"].isdisjoint(
            permissions.relations(self, person, request))
