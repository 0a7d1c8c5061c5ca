"""The workbench's pages: sign-in by link, the list of requests, one request and the actions taken on it."""
from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Form, HTTPException, Request as HttpRequest
from fastapi.responses import RedirectResponse

from bot.web.access import Viewer, bot, check_csrf, reading, viewer, viewer_of, visible
from bot.web.photos import attachments_of
from bot.web.render import page
from handlers import lifecycle
from handlers.digest import how_late
from handlers.views import about, event_line, overdue, place
from storage.requests import OPEN_STATES
from storage.uow import UnitOfWork
from storage.workbench import RequestFilter

PAGE_SIZE = 50
STATES = ("new", "assigned", "claimed", "done", "closed", "reopened", "merged", "withdrawn", "rejected")
FILTERS = ("state", "grid", "category", "building", "urgent", "overdue", "since", "until", "text")
# The page's actions and the chat command each one is: the page acts exactly as the command would.
ACTIONS = {"claim": "接单 {n}", "progress": "进展 {n} {note}", "done": "办结 {n} {note}",
           "transfer": "转派 {n} {target}", "escalate": "上报 {n} {note}", "reject": "退回 {n} {note}",
           "merge": "合并 {n} {target}"}
router = APIRouter()


@router.get("/")
def home() -> RedirectResponse:
    """The list is the front page."""
    return RedirectResponse("/requests", status_code=303)


@router.get("/signin/{token}")
def sign_in_page(token: str, http: HttpRequest):
    """A link from the chat opens a page with one button that signs in. Opening it spends nothing: a messenger
    that fetches the link to show a preview must not use up the one sign-in it allows."""
    app = bot(http)
    found = app.services.links.read(token, app.clock.now()) if app.services.links else None
    if found is not None:
        with UnitOfWork(app.db, read_only=True) as uow:
            if viewer_of(app, uow.people.get(found[0])) is not None and not uow.ledger.link_used(found[1]):
                return page(http, "signin.html", None)
    return page(http, "message.html", None, status=403, keys=["web.link_invalid", "web.how_to_sign_in"])


@router.post("/signin/{token}")
def sign_in(token: str, http: HttpRequest):
    """The button: a valid, fresh and unused link starts a session for a person whose role has access."""
    app = bot(http)
    found = app.services.links.read(token, app.clock.now()) if app.services.links else None
    if found is not None:
        person_id, nonce = found
        with UnitOfWork(app.db) as uow:
            allowed = viewer_of(app, uow.people.get(person_id)) is not None
            if allowed and uow.ledger.use_link(nonce, app.clock.now()):
                uow.commit()
                http.session.clear()
                http.session.update(person=person_id, csrf=secrets.token_urlsafe(24))
                return RedirectResponse("/requests", status_code=303)
    return page(http, "message.html", None, status=403, keys=["web.link_invalid", "web.how_to_sign_in"])


@router.post("/signout")
def sign_out(http: HttpRequest, csrf: str = Form("")) -> RedirectResponse:
    """End the session."""
    check_csrf(http, csrf)
    http.session.clear()
    return RedirectResponse("/signed-out", status_code=303)


@router.get("/signed-out")
def signed_out(http: HttpRequest):
    """Where a browser without a session lands: how to get a link."""
    return page(http, "message.html", None, status=401, keys=["web.signed_out", "web.how_to_sign_in"])


def chosen_filter(http: HttpRequest, who: Viewer) -> RequestFilter:
    """The list's filters kept in the session, as a filter scoped to the viewer."""
    chosen = http.session.get("filters") or {}
    zone = bot(http).services.community.zone

    def day(key: str, shift: int = 0) -> datetime | None:
        try:
            return datetime.fromisoformat(chosen[key]).replace(tzinfo=zone) + timedelta(days=shift)
        except (KeyError, ValueError, TypeError):
            return None

    return who.scoped(RequestFilter(
        state=chosen.get("state") or None, grid=chosen.get("grid") or None, category=chosen.get("category") or None,
        building=chosen.get("building") or None, urgent=bool(chosen.get("urgent")),
        overdue=bool(chosen.get("overdue")), since=day("since"), until=day("until", 1),
        text=(chosen.get("text") or "").strip()[:100] or None))


@router.post("/requests/filter")
async def set_filter(http: HttpRequest, _who: Viewer = Depends(viewer)) -> RedirectResponse:
    """Keep the list's filters in the session (search words never go into a URL), then show page 1."""
    form = await http.form()
    check_csrf(http, form.get("csrf"))
    if form.get("clear"):
        http.session.pop("filters", None)
    else:
        http.session["filters"] = {key: str(form.get(key) or "")[:100] for key in FILTERS}
    return RedirectResponse("/requests", status_code=303)


@router.get("/requests")
def request_list(http: HttpRequest, page_no: int = 1, who: Viewer = Depends(viewer)):
    """All requests the viewer may see, filtered, newest first, a page at a time, with the counts per state."""
    app = bot(http)
    f = chosen_filter(http, who)
    page_no = max(1, page_no)
    with reading(app, who.person_id) as t:
        rows = t.uow.workbench.page(f, t.now, page_no, PAGE_SIZE)
        counts = t.uow.workbench.count_by_state(f, t.now)
        total = counts.get(f.state, 0) if f.state else sum(counts.values())
        names = t.uow.workbench.names(r.assignee_id for r in rows)
        lines = [_row(t, r, names, who.lang) for r in rows]
    community = app.services.community
    grids = [g for g in community.grids if who.grids is None or g.id in who.grids]
    buildings = [b for g in grids for b in g.buildings]
    return page(http, "list.html", who, rows=lines, total=total, counts=counts, states=STATES, page_no=page_no,
                pages=max(1, math.ceil(total / PAGE_SIZE)), chosen=http.session.get("filters") or {},
                grids=grids, buildings=buildings, categories=list(community.categories))


def _row(t, r, names: dict[int, str], lang: str) -> dict:
    """What a list row shows; how overdue as the digest says it (超时 5 小时, 超时 3 天)."""
    late = r.state in OPEN_STATES and overdue(r, t.now)
    return {"id": r.id, "kind": r.kind, "category": r.category, "urgent": r.urgent, "place": place(t, r, lang),
            "state": r.state, "assignee": names.get(r.assignee_id), "respond_by": r.respond_by,
            "resolve_by": r.resolve_by, "claimed": r.responded_at is not None, "open": r.state in OPEN_STATES,
            "late": how_late(t, r, lang) if late else None}


@router.get("/requests/{number}")
def one_request(number: int, http: HttpRequest, who: Viewer = Depends(viewer)):
    """One request: what the resident said, where it stands, its whole timeline, and the actions on it."""
    app = bot(http)
    with reading(app, who.person_id) as t:
        request = visible(t, who, number)
        head = about(t, request, who.lang)
        events = t.uow.requests.timeline(number)
        timeline = [event_line(t, e, who.lang).strip() for e in events]
        photos = attachments_of(number, events)
        followers = t.uow.workbench.followers_of(number)
        ratings = t.uow.workbench.ratings_of(number)
        names = t.uow.workbench.names([request.reporter_id, *(p for p, _ in followers),
                                       *(r.person_id for r in ratings)])
        text = t.svc.reader.without_tags(request.text)
    staff = [m for m in app.services.community.members if m.role in ("grid_member", "leader", "secretary")]
    answers = http.session.pop("answers", None)
    return page(http, "request.html", who, r=request, head=head, timeline=timeline, text=text, names=names,
                photos=photos,
                followers=followers, ratings=ratings, staff=staff, answers=answers,
                actions=[a for a in ACTIONS if lifecycle.allows(request, a)],  # none on a closed request
                form_id=secrets.token_urlsafe(12))


@router.post("/requests/{number}/act")
def act(number: int, http: HttpRequest, action: str = Form(...), csrf: str = Form(""), form_id: str = Form(""),
        note: str = Form(""), target: str = Form(""), who: Viewer = Depends(viewer)) -> RedirectResponse:
    """Claim, note progress, finish, transfer, escalate, reject or merge: the same command as in chat, run as the
    signed-in staff member, so the same permissions apply and the residents hear of it the same way."""
    check_csrf(http, csrf)
    if action not in ACTIONS or not form_id:
        raise HTTPException(status_code=400, detail="web.bad_form")
    app = bot(http)
    with reading(app, who.person_id) as t:
        visible(t, who, number)
    one_line = lambda text: " ".join(text.split())[:1000]  # noqa: E731  a command is one line
    command = ACTIONS[action].format(n=number, note=one_line(note), target=one_line(target)).strip()
    http.session["answers"] = app.dispatcher.act(who.person_id, command, f"form:{form_id}")
    return RedirectResponse(f"/requests/{number}", status_code=303)
