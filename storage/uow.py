"""The unit of work: one transaction, the repositories that share it, commit or roll back."""
from __future__ import annotations

from storage.appends import Appends
from storage.chats import ChatRepository
from storage.db import Database
from storage.dev_clock import DevClockRepository
from storage.figures import Figures
from storage.ledger import Ledger
from storage.outbox import OutboxRepository
from storage.people import PeopleRepository
from storage.public import PublicRequests
from storage.pruning import Retention
from storage.requests import RequestRepository
from storage.schedule import FollowUpRepository
from storage.workbench import Workbench


class UnitOfWork:
    """Use as `with UnitOfWork(db) as uow: ...; uow.commit()`; leaving without commit rolls back.

    `UnitOfWork(db, read_only=True)` is for work that only reads: it never holds up a writer (storage/db.py).
    `background=True` is for a job that steps aside for the others (the sweep): they do not wait for it to see
    them (Database.writer_began)."""

    def __init__(self, db: Database, *, read_only: bool = False, background: bool = False) -> None:
        self.db, self.read_only = db, read_only
        self.counted = not (read_only or background)

    def __enter__(self) -> UnitOfWork:
        self.session = self.db.session(read_only=self.read_only)
        self.appends = Appends(self.session)
        self.requests = RequestRepository(self.session, self.appends)
        self.people = PeopleRepository(self.session)
        self.followups = FollowUpRepository(self.session, self.appends)
        self.outbox = OutboxRepository(self.session, self.appends)
        self.ledger = Ledger(self.session)
        self.chats = ChatRepository(self.session)
        self.figures = Figures(self.session)
        self.dev_clock = DevClockRepository(self.session)
        self.workbench = Workbench(self.session)
        self.public = PublicRequests(self.session)
        self.retention = Retention(self.session)
        if self.counted:
            self.db.writer_began()
        return self

    def __exit__(self, *exc_info) -> None:
        self.appends.discard()
        # close() rolls back whatever was not committed; unlike rollback() it leaves loaded objects readable.
        try:
            self.session.close()
        finally:
            if self.counted:
                self.db.writer_ended()

    def commit(self) -> None:
        """Make everything done in this unit of work permanent, at once; then tell who sends what it queued."""
        self.session.commit()
        if self.outbox.queued and self.db.on_outbox is not None:
            self.db.on_outbox(set(self.outbox.queued))
