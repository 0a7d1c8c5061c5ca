"""Exactly-once ledgers and kept offers: processed platform messages, digest runs, offers to file."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from storage.fast import Prepared
from storage.models import DigestRun, Offer, ProcessedMessage


def _insert_once(insert, table, names: tuple[str, ...]) -> object:
    # Built once with bound parameters: a message's hot path should not rebuild SQL.
    columns = {name: bindparam(name) for name in names}
    # RETURNING tells reliably whether the row went in (psycopg reports no rowcount here).
    # On the Table, not the model: the ORM's bulk-insert machinery would cost more than the statement.
    return Prepared(insert(table.__table__).values(**columns).on_conflict_do_nothing()
                    .returning(*table.__table__.primary_key))


INSERT_ONCE = {
    (dialect, table): _insert_once(insert, table, names)
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
    for table, names in ((ProcessedMessage, ("channel", "message_id", "at")), (DigestRun, ("community", "day", "at")))
}


class Ledger:
    """Ledgers of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert_once(self, table, **values) -> bool:
        stmt = INSERT_ONCE[self.session.get_bind().dialect.name, table]
        return stmt.first(self.session, values) is not None

    def first_delivery(self, channel: str, message_id: str, at: datetime) -> bool:
        """Record a platform message; False when it was handled before (a redelivery)."""
        return self._insert_once(ProcessedMessage, channel=channel, message_id=message_id, at=at)

    def use_code(self, code: str, at: datetime) -> bool:
        """Spend a one-time binding code; False when it was spent before."""
        return self._insert_once(ProcessedMessage, channel="bind-code", message_id=code, at=at)

    def issue_link(self, person_id: int, nonce: str, at: datetime) -> None:
        """Note a web sign-in link sent to a person (what the hourly limit counts)."""
        self._insert_once(ProcessedMessage, channel="web-link", message_id=f"{person_id}:{nonce}", at=at)

    def links_issued_since(self, person_id: int, since: datetime) -> int:
        """How many sign-in links a person was sent from `since` on."""
        stmt = select(func.count()).select_from(ProcessedMessage).where(
            ProcessedMessage.channel == "web-link", col(ProcessedMessage.message_id).startswith(f"{person_id}:"),
            ProcessedMessage.at >= since)
        return self.session.exec(stmt).one()

    def use_link(self, nonce: str, at: datetime) -> bool:
        """Spend a sign-in link; False when it was used before."""
        return self._insert_once(ProcessedMessage, channel="web-link-used", message_id=nonce, at=at)

    def link_used(self, nonce: str) -> bool:
        """Whether a sign-in link was spent already (spending it is use_link)."""
        stmt = select(ProcessedMessage.at).where(ProcessedMessage.channel == "web-link-used",
                                                 ProcessedMessage.message_id == nonce)
        return self.session.exec(stmt).first() is not None

    def claim_digest(self, community: str, day: str, at: datetime) -> bool:
        """Take the right to send one day's digest; False when it went out already."""
        return self._insert_once(DigestRun, community=community, day=day, at=at)

    def digest_sent(self, community: str, day: str) -> bool:
        """Whether one day's digest was claimed already (the claim itself is claim_digest)."""
        stmt = select(DigestRun.id).where(DigestRun.community == community, DigestRun.day == day)
        return self.session.exec(stmt).first() is not None

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

    def offered_in(self, channel: str, chat_id: str, since: datetime) -> bool:
        """Whether the bot asked anyone in this chat since then (the same moment too) whether to file a message,
        still unanswered."""
        stmt = select(Offer.id).where(Offer.status == "pending", Offer.channel == channel, Offer.chat_id == chat_id,
                                      Offer.created_at >= since).limit(1)
        return self.session.exec(stmt).first() is not None

    def declined_offer(self, person_id: int, channel: str, chat_id: str, now: datetime) -> Offer | None:
        """Her latest unexpired offer in this chat if she declined it (she may still change her mind), else None."""
        stmt = (select(Offer)
                .where(Offer.person_id == person_id, Offer.channel == channel, Offer.chat_id == chat_id,
                       col(Offer.status).in_(("pending", "declined", "filed")), Offer.expires_at > now)
                .order_by(col(Offer.id).desc()).limit(1))
        latest = self.session.exec(stmt).first()
        return latest if latest is not None and latest.status == "declined" else None

    def kept_messages(self, limit: int) -> tuple[list[Offer], int]:
        """Messages kept after their handling failed and not yet handled by staff: the oldest `limit`, and how
        many there are in all."""
        kept = Offer.status == "failed"
        total = self.session.exec(select(func.count()).select_from(Offer).where(kept)).one()
        return list(self.session.exec(select(Offer).where(kept).order_by(col(Offer.id)).limit(limit))), total

    def settle_kept(self, offer_id: int) -> bool:
        """Mark a kept message handled; False when there is no such kept message waiting."""
        offer = self.session.get(Offer, offer_id)
        if offer is None or offer.status != "failed":
            return False
        offer.status = "handled"
        self.session.add(offer)
        return True
