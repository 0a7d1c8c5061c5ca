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
from functools import lru_cache

from handlers.catalog import Catalog
from handlers.community import CATEGORIES, Community
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


class Publisher:
    """Writes GeoReport documents for one community in one language; the labels every row repeats (category
    names, grid names, state notes) are looked up once, as requests.json writes up to 1,000 rows a call."""

    def __init__(self, community: Community, catalog: Catalog, lang: str) -> None:
        self.community, self.catalog, self.lang = community, catalog, lang
        self.names = {code: catalog.label(lang, "category", code) for code in CATEGORIES}
        self.agencies = {grid.id: grid.name for grid in community.grids}
        self.zone = community.zone

    def services(self) -> list[dict]:
        """services.json: one realtime service per category of the community, with its deadlines."""
        cat, lang = self.catalog, self.lang
        return [{
            "service_code": code,
            "service_name": self.names[code],
            "description": cat.text(lang, "open311.service", description=cat.text(lang, f"open311.description.{code}"),
                                    respond=format_duration(times.respond), resolve=format_duration(times.resolve)),
            "metadata": False,
            "type": "realtime",
            "keywords": None,
            "group": cat.text(lang, f"open311.group.{code}"),
        } for code, times in self.community.categories.items()]

    def request(self, row: PublicRequest) -> dict:
        """One service request of requests.json, in the community's time zone."""
        return {
            "service_request_id": str(row.id),
            "status": status_of(row.state),
            "status_notes": self._notes(row.state, row.level, row.duplicate_of),
            "service_name": self.names.get(row.category, row.category),
            "service_code": row.category,
            "description": None,
            "agency_responsible": self.agencies.get(row.grid, self.community.community.name),
            "service_notice": None,
            "requested_datetime": self._local(row.created_at),
            "updated_datetime": self._local(row.updated_at),
            "expected_datetime": self._local(row.resolve_by),
            "address": self._address(row),
            "address_id": row.building,
            "zipcode": None,
            "lat": None,
            "long": None,
            "media_url": None,
        }

    @lru_cache(maxsize=256)  # noqa: B019 (one Publisher per API, living as long as it)
    def _notes(self, state: str, level: int, into: int | None) -> str:
        notes = self.catalog.text(self.lang, f"open311.notes.{state}", into=into)
        staff_id = ladder(self.community, level) if state in WORKING else None
        if staff_id is not None:
            role = self.catalog.label(self.lang, "role", self.community.member(staff_id).role)
            notes += self.catalog.text(self.lang, "open311.escalated", role=role)
        return notes

    def _address(self, row: PublicRequest) -> str | None:
        if not row.building:
            return None
        text = self.catalog.text(self.lang, "place.building", building=row.building)
        if row.unit and row.kind != "wish" and row.category not in ABOUT_PEOPLE:
            text += self.catalog.text(self.lang, "place.unit", unit=row.unit)
        return text

    def _local(self, at: datetime) -> str:
        """ISO 8601 with the community's offset, to the second: 2026-11-23T10:00:00+08:00."""
        return at.astimezone(self.zone).isoformat(timespec="seconds")
