"""Residents and staff, and the identities that reach them on each channel."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_, select

from storage import fast
from storage.db import constant
from storage.fast import Prepared
from storage.models import Identity, Outbox, Person

SEEN_EVERY = timedelta(minutes=10)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Address(NamedTuple):
    """A private chat on one channel."""

    channel: str
    private_chat: str


# Statements every message runs, built once with bound parameters rather than rebuilt per call.
_IDENTITY = Identity.__table__
_PERSON = Person.__table__
_IDENTITY_COLUMNS = [column.key for column in _IDENTITY.columns]
_PERSON_COLUMNS = [column.key for column in _PERSON.columns]
ACCOUNT = Prepared(sa_select(*_IDENTITY.columns, *_PERSON.columns)
                   .join_from(_IDENTITY, _PERSON, _IDENTITY.c.person_id == _PERSON.c.id)
                   .where(_IDENTITY.c.channel == bindparam("channel"),
                          _IDENTITY.c.external_id == bindparam("external_id")))
STAFF = Prepared(sa_select(*_PERSON.columns).where(_PERSON.c.staff_id == bindparam("staff_id")))
# Only where to send is needed, so columns rather than an Identity object: no ORM loading on every report.
PRIVATE_ADDRESS = Prepared(
    sa_select(_IDENTITY.c.channel, _IDENTITY.c.private_chat)
    .where(_IDENTITY.c.person_id == bindparam("person_id"), _IDENTITY.c.private_chat.is_not(None),
           _IDENTITY.c.unreachable.is_(False))
    .order_by(_IDENTITY.c.last_seen_at.desc().nulls_last(), _IDENTITY.c.id))


class PeopleRepository:
    """People of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # The session holds what it loaded only weakly: a batch of follow-ups names the same few staff hundreds of
        # times, and each would be read again.
        self._known: dict[int, Person] = {}
        # What preload() read for a batch of follow-ups: staff by config id (None: not there), and each person's
        # accounts in the order they were made; forgotten when this unit of work changes an account.
        self._staff: dict[str, Person | None] = {}
        self._accounts: dict[int, list[Identity]] = {}
        self._reachable: dict[int, list[Address]] = {}  # private_address's answer from them, once worked out

    def _forget_accounts(self) -> None:
        self._accounts.clear()
        self._reachable.clear()

    def preload(self, person_ids: set[int], staff_ids: set[str]) -> None:
        """Read at once these people, these staff members, and the accounts of all of them (two queries), so that
        a batch of follow-ups asks nothing more of people while it fires."""
        wanted = person_ids - self._known.keys()
        staff = staff_ids - self._staff.keys()
        if wanted or staff:
            stmt = select(Person).where(or_(col(Person.id).in_(wanted), col(Person.staff_id).in_(staff)))
            for person in self.session.exec(stmt):
                self._known[person.id] = person
                if person.staff_id in staff:
                    self._staff[person.staff_id] = person
            self._staff.update((staff_id, None) for staff_id in staff - self._staff.keys())
        people = [person_id for person_id in person_ids | {p.id for p in self._staff.values() if p is not None}
                  if person_id not in self._accounts]
        if people:
            accounts: dict[int, list[Identity]] = {person_id: [] for person_id in people}
            stmt = select(Identity).where(col(Identity.person_id).in_(people)).order_by(col(Identity.id))
            for identity in self.session.exec(stmt):
                accounts[identity.person_id].append(identity)
            self._accounts.update(accounts)

    def get(self, person_id: int) -> Person | None:
        """The person with this id."""
        person = self._known.get(person_id)
        if person is None:
            person = self.session.get(Person, person_id)
            if person is not None:
                self._known[person_id] = person
        return person

    def by_identity(self, channel: str, external_id: str) -> Person | None:
        """Who is behind an account on a channel, if the bot has met them."""
        stmt = select(Person).join(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
        return self.session.exec(stmt).first()

    def by_staff_id(self, staff_id: str) -> Person | None:
        """The staff member with this config id."""
        if staff_id in self._staff:
            return self._staff[staff_id]
        row = STAFF.first(self.session, {"staff_id": staff_id})
        return fast.adopt(self.session, Person, dict(zip(_PERSON_COLUMNS, row))) if row else None

    def met(self, channel: str, external_id: str, name: str, *, private_chat: str | None,
            language: str | None, at: datetime) -> tuple[Person, Identity]:
        """The person behind an account and the account, created on first meeting (speaking `language` if known);
        remembers where to reach them."""
        self._forget_accounts()
        row = ACCOUNT.first(self.session, {"channel": channel, "external_id": external_id})
        if row is None:
            person = Person(name=name, language=language or "zh-CN", created_at=at)
            fast.add(self.session, person)
            identity = Identity(person_id=person.id, channel=channel, external_id=external_id, last_seen_at=at,
                                private_chat=private_chat)
            fast.add(self.session, identity)
            return person, identity
        split = len(_IDENTITY_COLUMNS)
        identity = fast.adopt(self.session, Identity, dict(zip(_IDENTITY_COLUMNS, row[:split])))
        person = fast.adopt(self.session, Person, dict(zip(_PERSON_COLUMNS, row[split:])))
        # last_seen_at only ranks a person's accounts, so writing it once per SEEN_EVERY is precise enough.
        if identity.last_seen_at is None or at - identity.last_seen_at >= SEEN_EVERY:
            identity.last_seen_at = at
        if private_chat and (identity.private_chat != private_chat or identity.unreachable):
            identity.private_chat = private_chat
            identity.unreachable = False
        self.session.add(identity)
        return person, identity

    def ensure_staff(self, staff_id: str, name: str, role: str, language: str,
                     contacts: dict[str, str], private_chats: dict[str, str | None], at: datetime) -> Person:
        """Create or update a staff member from config, with an identity per configured contact."""
        self._staff.pop(staff_id, None)
        self._forget_accounts()
        person = self.by_staff_id(staff_id)
        if person is None:
            person = Person(name=name, staff_id=staff_id, role=role, language=language, created_at=at)
        person.name, person.role = name, role
        if not person.language_chosen:  # what a member chose with 语言 / /lang outlasts a restart
            person.language = language
        self.session.add(person)
        self.session.flush()
        for channel, external_id in contacts.items():
            identity = self._account(channel, external_id)
            if identity is None:
                identity = Identity(channel=channel, external_id=external_id, person_id=person.id)
            identity.person_id = person.id
            identity.private_chat = identity.private_chat or private_chats.get(channel)
            self.session.add(identity)
        return person

    def link(self, person: Person, channel: str, external_id: str, private_chat: str | None, at: datetime) -> None:
        """Make an account on a channel belong to this person (a staff member binding their account)."""
        self._forget_accounts()
        identity = (self._account(channel, external_id)
                    or Identity(channel=channel, external_id=external_id, person_id=person.id))
        identity.person_id, identity.last_seen_at = person.id, at
        if private_chat:
            identity.private_chat, identity.unreachable = private_chat, False
        self.session.add(identity)

    def _account(self, channel: str, external_id: str) -> Identity | None:
        return self.session.exec(
            select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)).first()

    def private_address(self, person_id: int, running: frozenset[str] | None = None) -> Address | None:
        """Where a private message to this person should go: among the channels running (all if None), the
        reachable account they used last, else the first configured (accounts are made in config's order)."""
        accounts = self._accounts.get(person_id)
        if accounts is not None:  # as PRIVATE_ADDRESS orders them: the last seen first, never seen last
            reachable = self._reachable.get(person_id)
            if reachable is None:
                reachable = self._reachable[person_id] = [
                    Address(a.channel, a.private_chat) for a in sorted(
                        (a for a in accounts if a.private_chat is not None and not a.unreachable),
                        key=lambda a: (a.last_seen_at is None, -(a.last_seen_at or EPOCH).timestamp()))]
            return next((a for a in reachable if running is None or a.channel in running), None)
        rows = PRIVATE_ADDRESS.rows(self.session, {"person_id": person_id})
        return next((Address(*row) for row in rows if running is None or row[0] in running), None)

    def invited(self, account: Identity, at: datetime) -> None:
        """Note that this account was asked to open a private chat with the bot."""
        account.invited_at = at
        self.session.add(account)

    def unreachable_staff(self) -> list[Person]:
        """Staff whose notices wait because they cannot be reached privately."""
        held = select(Outbox.person_id).where(col(Outbox.status) == constant("held"))
        stmt = select(Person).where(Person.staff_id.is_not(None), Person.id.in_(held)).order_by(Person.id)
        return list(self.session.exec(stmt))

    def identity_on(self, person_id: int, channel: str) -> Identity | None:
        """This person's account on one channel, if any."""
        accounts = self._accounts.get(person_id)
        if accounts is not None:
            return next((a for a in accounts if a.channel == channel), None)
        stmt = select(Identity).where(Identity.person_id == person_id, Identity.channel == channel)
        return self.session.exec(stmt).first()
