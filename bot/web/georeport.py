"""GeoReport v2 documents: the community's categories as services, published requests as service requests.

What a request says publicly is decided here, and only from storage.public's columns: its category, the building
and unit (the building alone for a neighbour dispute or a micro-wish, which are about people, and a unit narrows
them to a few households), how far along it is in the catalog's words, and its times. The resident's words
(`description`) are not published: under the house rules a complaint's text goes only to the resident and to
staff in private, and free text can hold a name, a flat or a phone that no filter reliably removes. For the same
reason `status_notes` is a catalog text by state, never a staff member's note.
"""
from __future__ import annotations

from datetime import datetime

from handlers.catalog import Catalog
from handlers.community import Community
from handlers.durations import format_duration
from handlers.lifecycle import TERMINAL, WORKING
from handlers.routing import ladder
from storage.public import PublicRequest

ABOUT_PEOPLE = frozenset({"neighbor", "help"})  # published with the building only


def status_of(state: str) -> str:
    """open while someone still has to act; closed once done (a rating may reopen it), or ended otherwise."""
    return "open" if state in WORKING else "closed"


def states_of(status: str) -> frozenset[str]:
    """The request states a GeoReport status stands for."""
    return WORKING if status == "open" else TERMINAL | {"done"}


def services(community: Community, catalog: Catalog, lang: str) -> list[dict]:
    """services.json: one realtime service per category of the community, with its deadlines."""
    return [{
        "service_code": code,
        "service_name": catalog.label(lang, "category", code),
        "description": catalog.text(lang, "open311.service",
                                    description=catalog.text(lang, f"open311.description.{code}"),
                                    respond=format_duration(times.respond), resolve=format_duration(times.resolve)),
        "metadata": False,
        "type": "realtime",
        "keywords": None,
        "group": catalog.text(lang, f"open311.group.{code}"),
    } for code, times in community.categories.items()]


def service_request(row: PublicRequest, community: Community, catalog: Catalog, lang: str) -> dict:
    """One service request of requests.json, in the community's time zone."""
    grid = community.grid(row.grid) if row.grid else None
    return {
        "service_request_id": str(row.id),
        "status": status_of(row.state),
        "status_notes": _notes(row, community, catalog, lang),
        "service_name": catalog.label(lang, "category", row.category),
        "service_code": row.category,
        "description": None,
        "agency_responsible": grid.name if grid else community.community.name,
        "service_notice": None,
        "requested_datetime": _local(row.created_at, community),
        "updated_datetime": _local(row.updated_at, community),
        "expected_datetime": _local(row.resolve_by, community),
        "address": _address(row, catalog, lang),
        "address_id": row.building,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _notes(row: PublicRequest, community: Community, catalog: Catalog, lang: str) -> str:
    notes = catalog.text(lang, f"open311.notes.{row.state}", into=row.duplicate_of)
    staff_id = ladder(community, row.level) if row.state in WORKING else None
    if staff_id is not None:
        role = catalog.label(lang, "role", community.member(staff_id).role)
        notes += catalog.text(lang, "open311.escalated", role=role)
    return notes


def _address(row: PublicRequest, catalog: Catalog, lang: str) -> str | None:
    if not row.building:
        return None
    text = catalog.text(lang, "place.building", building=row.building)
    if row.unit and row.kind != "wish" and row.category not in ABOUT_PEOPLE:
        text += catalog.text(lang, "place.unit", unit=row.unit)
    return text


def _local(at: datetime, community: Community) -> str:
    """ISO 8601 with the community's offset, to the second: 2026-11-23T10:00:00+08:00."""
    return at.astimezone(community.zone).isoformat(timespec="seconds")
