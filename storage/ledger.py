"""Exactly-once ledgers and kept offers: processed platform messages, digest runs, offers to file."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.models import DigestRun, Offer, ProcessedMessage


class Ledger:
    """Ledgers of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert_once(self, table, **values) -> bool:
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        # RETURNING tells reliably whether the row went in (psycopg reports no rowcount here).
        stmt = insert(table).values(**values).on_conflict_do_nothing().returning(*table.__table__.primary_key)
        return self.session.exec(stmt).first() is not None

    def first_delivery(self, channel: str, message_id: str, at: datetime) -> bool:
        """Record a platform message; False when it was handled before (a redelivery)."""
        return self._insert_once(ProcessedMessage, channel=channel, message_id=message_id, at=at)

    def claim_digest(self, community: str, day: str, at: datetime) -> bool:
        """Take the right to send one day's digest; False when it went out already."""
        return self._insert_once(DigestRun, community=community, day=day, at=at)

    def add_offer(self, offer: Offer) -> Offer:
        """Keep an untagged message the bot offered to file."""
        self.session.add(offer)
        return offer

    def pending_offer(self, person_id: int, channel: str, chat_id: str, now: datetime) -> Offer | None:
        """The latest unanswered, unexpired offer to this person in this chat."""
        stmt = (select(Offer)
                .where(Offer.person_id == person_id, Offer.channel == channel, Offer.chat_id == chat_id,
                       Offer.status == "pending", Offer.expires_at > now)
                .order_by(col(Offer.id).desc()))
        return self.session.exec(stmt).first()
