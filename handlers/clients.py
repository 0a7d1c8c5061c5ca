"""Reports an API client (the citizen hotline, through Open311) files for a resident: read and filed like a chat
report, the client being the reporter, in one transaction and with the same notices through the outbox."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from handlers.clock import Clock
from handlers.context import Services, Turn
from handlers.errors import UserError
from handlers.filing import file_request
from handlers.messages import Inbound
from handlers.say import Say
from storage.db import Database, retry_conflicts
from storage.uow import UnitOfWork

CHANNEL = "open311"  # a channel that answers in place: the reply is the HTTP response, never a queued message


@dataclass(frozen=True)
class ClientReport:
    """What a client sent: its words for the problem, the place, and the resident's contact, all for staff."""

    client: str
    category: str
    description: str
    building: str | None = None  # address_id: a building of the community
    address: str | None = None   # address_string: 3号楼2单元, read like a message
    contact: str = ""            # the resident's name, phone or email, as the client gave them
    media: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filed:
    """The request the report became (or joined), and what the bot answered the client."""

    number: int
    notice: str


class UnknownBuilding(UserError):
    """The report names a building this community does not have."""

    key = "open311.error.building"


def file_report(services: Services, db: Database, clock: Clock, report: ClientReport) -> Filed:
    """File a client's report in one transaction, as a chat report from that client in a private chat.

    The category is the client's (it chose the service), urgency and place come from reading its words as any
    message is read; a neighbour's earlier report of the same open problem is joined, as in chat. Raises
    UnknownBuilding, changing nothing, for a place outside the community.
    """
    return retry_conflicts(lambda: _file(services, db, clock, report))


def _file(services: Services, db: Database, clock: Clock, report: ClientReport) -> Filed:
    now = clock.now()
    reader, community = services.reader, services.community
    reading = reader.read(report.description, mentioned=True)
    place = reader.read(report.address) if report.address else reading
    building = report.building or place.building or reading.building
    if building is not None and community.grid_of_building(building) is None:
        raise UnknownBuilding(building=building)
    reading = replace(reading, kind=reading.kind if reading.kind != "none" else "complaint",
                      category=report.category, building=building, unit=place.unit or reading.unit,
                      room=place.room or reading.room, building_source="text" if building else None)
    text = "\n".join(part for part in (report.description, report.contact) if part)
    msg = Inbound(channel=CHANNEL, chat_id=report.client, chat_kind="private", sender_id=report.client,
                  sender_name=report.client, text=text, message_id=f"{CHANNEL}-{uuid.uuid4().hex}",
                  attachments=report.media).storable()
    with UnitOfWork(db) as uow:
        # No private chat: a client is answered in its response and cannot be messaged later (nor rated by).
        person, account = uow.people.met(CHANNEL, report.client, report.client, private_chat=None,
                                         language=community.community.language, at=now)
        if account.invited_at is None:  # nor asked to open a private chat with the bot
            uow.people.invited(account, now)
        turn = Turn(services, uow, Say(uow, services.catalog, community, now), now, msg, person, account)
        request = file_request(turn, reading, text)
        notice = "\n".join(uow.outbox.answered(CHANNEL, report.client, now))
        uow.commit()
        return Filed(request.id, notice)
