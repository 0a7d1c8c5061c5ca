"""The Open311 GeoReport v2 API at /open311/v2: services, service requests to read, and filing by API clients.

JSON only (services.json, requests.json, requests/{id}.json). Reading needs no key and publishes nothing personal
(bot/web/georeport.py says what is published and why); filing needs a client's api_key and goes through the same
intake and filing handlers as a chat report (handlers/clients.py). Errors are the spec's arrays,
[{"code": 400, "description": ...}], with the same HTTP status.
"""
from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from bot.app import App
from bot.web import georeport
from handlers.clients import ClientReport, file_report
from handlers.errors import UserError
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
WINDOW = timedelta(days=90)  # the spec's default span, and its default of at most 1,000 requests
LIMIT = 1000
MAX_DESCRIPTION = 4000  # the spec's limit on description
MAX_FIELD = 200         # any other field a client sends
SPLIT = re.compile(r"\s*,\s*")


class Refused(Exception):
    """A request the API answers with an error array: HTTP status, catalog key and its parameters."""

    def __init__(self, code: int, key: str, **params) -> None:
        super().__init__(key)
        self.code, self.key, self.params = code, key, params


def open311_router(app: App) -> APIRouter:
    """The API's routes, for the workbench to include; everything they need comes from the wired App."""
    api = _Api(app)
    router = APIRouter(prefix="/open311/v2", route_class=_route_class(api))
    router.add_api_route("/services.json", api.services, methods=["GET"])
    router.add_api_route("/requests.json", api.requests, methods=["GET"])
    router.add_api_route("/requests.json", api.file, methods=["POST"])
    router.add_api_route("/requests/{number}.json", api.request, methods=["GET"])
    return router


class _Api:
    """The endpoints, over one App."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.community, self.catalog = app.services.community, app.services.catalog
        self.lang = self.community.community.language
        self.publish = georeport.Publisher(self.community, self.catalog, self.lang)
        settings = app.settings.open311
        self.jurisdiction = settings.jurisdiction_id
        self.clients = settings.clients(app.settings.env)

    def services(self, request: Request) -> JSONResponse:
        """GET services.json: the categories."""
        self._check_jurisdiction(request.query_params.get("jurisdiction_id"))
        return JSONResponse(self.publish.services())

    def requests(self, request: Request) -> JSONResponse:
        """GET requests.json: by number (which overrides every other filter), else by category, status and
        filing time, newest first; by default the last 90 days, at most 1,000."""
        query = request.query_params
        self._check_jurisdiction(query.get("jurisdiction_id"))
        numbers = _listed(query, "service_request_id")
        with UnitOfWork(self.app.db) as uow:
            if numbers:
                rows = uow.public.by_numbers(_numbers(numbers))
            else:
                since, until = self._window(query)
                states = set().union(*(georeport.states_of(s) for s in _statuses(_listed(query, "status"))))
                rows = uow.public.filed_between(since, until, categories=self._codes(_listed(query, "service_code")),
                                                states=states, limit=LIMIT)
        return JSONResponse([self.publish.request(r) for r in rows])

    def request(self, number: str, request: Request) -> JSONResponse:
        """GET requests/{id}.json: one request, as a one-item array like the spec's."""
        self._check_jurisdiction(request.query_params.get("jurisdiction_id"))
        with UnitOfWork(self.app.db) as uow:
            rows = uow.public.by_numbers([int(number)]) if _is_number(number) else []
            if not rows:
                raise Refused(404, "open311.error.not_found", value=number[:MAX_FIELD])
        return JSONResponse([self.publish.request(rows[0])])

    async def file(self, request: Request) -> JSONResponse:
        """POST requests.json (form-encoded): a client files a request; the answer is its number and what the
        bot told the client, as it tells a resident who reports in chat."""
        form = await request.form()  # the form only, never the query: a URL ends up in access logs

        def field(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        client = self._client(field("api_key"))
        self._check_jurisdiction(field("jurisdiction_id") or None)
        report = self._report(client, field)
        filed = await run_in_threadpool(file_report, self.app.services, self.app.db, self.app.clock, report)
        if self.app.sender is not None:  # the grid member's notice goes now, from the loop the sender runs in
            self.app.sender.wake()
        return JSONResponse([{"service_request_id": str(filed.number), "service_notice": filed.notice}])

    def _client(self, key: str) -> str:
        """The client an api_key names; compared in constant time, so a key cannot be guessed by timing."""
        for known, client in self.clients.items():
            if key and hmac.compare_digest(key.encode(), known.encode()):
                return client
        raise Refused(403, "open311.error.api_key")

    def _report(self, client: str, field: Callable[[str], str]) -> ClientReport:
        """A filed request's fields, checked: a known service, a location, nothing too long."""
        code = field("service_code")
        if code not in self.community.categories:
            raise Refused(400, "open311.error.service_code", value=code[:MAX_FIELD])
        building, address = field("address_id") or None, field("address_string") or None
        if building is None and address is None and not _coordinates(field("lat"), field("long")):
            raise Refused(400, "open311.error.location")
        description = field("description")
        if len(description) > MAX_DESCRIPTION:
            raise Refused(400, "open311.error.too_long", field="description", most=MAX_DESCRIPTION)
        extra = {name: field(name) for name in ("last_name", "first_name", "phone", "email", "media_url",
                                                "address_string")}
        for name, value in extra.items():
            if len(value) > MAX_FIELD:
                raise Refused(400, "open311.error.too_long", field=name, most=MAX_FIELD)
        who = " ".join(p for p in (extra["last_name"] + extra["first_name"], extra["phone"], extra["email"]) if p)
        return ClientReport(
            client=client, category=code,
            description=description or self.catalog.label(self.lang, "category", code),
            building=building, address=address,
            contact=self.catalog.text(self.lang, "open311.contact", contact=who) if who else "",
            media=(extra["media_url"],) if extra["media_url"] else ())

    def _check_jurisdiction(self, given: str | None) -> None:
        if given and self.jurisdiction and given != self.jurisdiction:
            raise Refused(404, "open311.error.jurisdiction", value=given[:MAX_FIELD])

    def _codes(self, codes: list[str]) -> set[str]:
        unknown = [c for c in codes if c not in self.community.categories]
        if unknown:
            raise Refused(400, "open311.error.service_code", value=unknown[0][:MAX_FIELD])
        return set(codes)

    def _window(self, query) -> tuple[datetime, datetime]:
        """[start_date, end_date]: end defaults to now, start to 90 days before the end."""
        until = self._time(query, "end_date") or self.app.clock.now()
        since = self._time(query, "start_date") or until - WINDOW
        if since > until:
            raise Refused(400, "open311.error.dates")
        return since, until

    def _time(self, query, name: str) -> datetime | None:
        value = query.get(name)
        if not value:
            return None
        for candidate in (value, _plus_restored(value)):
            try:
                at = datetime.fromisoformat(candidate)
            except ValueError:
                continue
            return at if at.tzinfo else at.replace(tzinfo=self.community.zone)  # a local time, as people write it
        raise Refused(400, "open311.error.date", field=name, value=value[:MAX_FIELD])

    def error(self, refused: Refused) -> JSONResponse:
        """The spec's error array, in the community's language."""
        text = self.catalog.text(self.lang, refused.key, **refused.params)
        return JSONResponse([{"code": refused.code, "description": text}], status_code=refused.code)


def _route_class(api: _Api) -> type[APIRoute]:
    """Routes whose errors are the spec's arrays: a refusal says what was wrong, anything else is logged with
    where it happened and answered 500 without details."""

    class Open311Route(APIRoute):
        def get_route_handler(self) -> Callable:
            handle = super().get_route_handler()

            async def answered(request: Request) -> Response:
                try:
                    return await handle(request)
                except Refused as refused:
                    return api.error(refused)
                except UserError as error:  # the handlers refused the report (a place outside the community)
                    return api.error(Refused(400, error.key, **error.params))
                except Exception:
                    # The path names at most a request number; the query and form are not logged, as a filed
                    # report carries the resident's words and contact.
                    log.exception("Open311 request failed: %s %s", request.method, request.url.path)
                    return api.error(Refused(500, "open311.error.internal"))

            return answered

    return Open311Route


def _listed(query, name: str) -> list[str]:
    """A parameter that may be given several times, each comma delimited."""
    return [part for value in query.getlist(name) for part in SPLIT.split(value.strip()) if part]


def _numbers(values: list[str]) -> list[int]:
    if len(values) > LIMIT or not all(_is_number(v) for v in values):
        raise Refused(400, "open311.error.number", most=LIMIT, value=",".join(values)[:MAX_FIELD])
    return [int(v) for v in values]


def _is_number(value: str) -> bool:
    """ASCII digits only: str.isdigit() also takes ² and ٣, which int() refuses."""
    return value.isascii() and value.isdigit()


def _statuses(values: list[str]) -> list[str]:
    for value in values:
        if value not in ("open", "closed"):
            raise Refused(400, "open311.error.status", value=value[:MAX_FIELD])
    return values


def _coordinates(lat: str, long: str) -> bool:
    """Whether lat and long are both given as numbers."""
    try:
        return bool(lat and long) and -90 <= float(lat) <= 90 and -180 <= float(long) <= 180
    except ValueError:
        return False


def _plus_restored(value: str) -> str:
    """2026-11-23T10:00:00+08:00 written unescaped in a query string arrives with a space for the '+'."""
    return re.sub(r" (\d{2}:?\d{2})$", r"+\1", value)
