"""A request's photos on its page: fetched from the chat channel that received them, kept a while in a bounded
cache, served only to staff who may see the request, and a polite picture in their language where the channel
cannot give one.

The page links each picture by request number, event id and position, never by the platform's file id, so a URL
says nothing about a resident; the route asks the channel named in the stored reference for the bytes
(Channel.picture) and serves them only if they are a JPEG, PNG, GIF or WebP image.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from html import escape

from fastapi import APIRouter, Depends, HTTPException, Request as HttpRequest
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bot.app import App
from bot.channels.base import picture_channel
from bot.web.access import Viewer, bot, reading, viewer, visible
from storage.models import Event

log = logging.getLogger(__name__)
FETCH_TIMEOUT = 30.0  # seconds a channel may take to give a picture before the placeholder is shown
KEPT_FOR = "private, max-age=86400"  # the browser may keep a picture; no shared cache may
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF87a", "image/gif"),
              (b"GIF89a", "image/gif"))
router = APIRouter()


@dataclass(frozen=True)
class Attachment:
    """One attachment of a request as its page shows it: a picture served here, a link, or a label."""

    at: datetime
    kind: str                # photo / image / voice …, or "link" for a client's media URL
    url: str | None = None   # a picture's address on this site, or a client's link


def attachments_of(number: int, events: list[Event]) -> list[Attachment]:
    """The attachments of a request's events, oldest first; pictures get an address on this site."""
    shown = []
    for e in events:
        for position, ref in enumerate((e.data or {}).get("attachments") or ()):
            if picture_channel(ref) is not None:
                shown.append(Attachment(e.at, ref.split(":")[1], f"/requests/{number}/photos/{e.id}/{position}"))
            elif ref.startswith(("https://", "http://")):  # an Open311 client's media_url
                shown.append(Attachment(e.at, "link", ref))
            else:
                shown.append(Attachment(e.at, ref.split(":")[1] if ref.count(":") >= 2 else "other"))
    return shown


class PictureCache:
    """Pictures fetched lately, by reference, at most `most` bytes in all; the least lately shown go first.

    Shared by the web's worker threads, hence the lock."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.size = 0
        self._kept: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ref: str) -> tuple[bytes, str] | None:
        """A kept picture and its media type, now the latest shown; None when not kept."""
        with self._lock:
            found = self._kept.get(ref)
            if found is not None:
                self._kept.move_to_end(ref)
            return found

    def keep(self, ref: str, data: bytes, media_type: str) -> None:
        """Keep a picture, making room; one bigger than a quarter of the room is not kept (it would empty it)."""
        if len(data) > self.most / 4:
            return
        with self._lock:
            if ref in self._kept:
                return
            self._kept[ref] = (data, media_type)
            self.size += len(data)
            while self.size > self.most:
                _, (dropped, _) = self._kept.popitem(last=False)
                self.size -= len(dropped)


def media_type(data: bytes) -> str | None:
    """The image type these bytes are, by their first bytes; None for anything that is no image we show."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for start, kind in SIGNATURES if data.startswith(start)), None)


async def fetch(app: App, cache: PictureCache, ref: str) -> tuple[bytes, str] | None:
    """A picture's bytes and media type, from the cache or else from its channel; None when it cannot be had."""
    found = cache.get(ref)
    if found is not None:
        return found
    name = picture_channel(ref)
    channel = app.channels.get(name or "")
    ask = getattr(channel, "picture", None)
    if ask is None:  # the channel is not running in this process (or gives no pictures)
        return None
    try:
        data = await asyncio.wait_for(ask(ref), FETCH_TIMEOUT)
    except Exception as error:  # NoPicture, a timeout, anything: the page shows the placeholder, the bot runs on
        log.warning("a %s picture could not be fetched for the web: %s", name, type(error).__name__)
        return None  # the reference (a file id) stays out of the log
    kind = media_type(data)
    if kind is None:
        log.warning("a %s picture was no image the web shows (%d bytes)", name, len(data))
        return None
    cache.keep(ref, data, kind)
    return data, kind


def _picture_ref(app: App, who: Viewer, number: int, event_id: int, position: int) -> str:
    """The reference of one picture of a request the viewer may see; 403/404 as for the request's page."""
    with reading(app, who.person_id) as t:
        visible(t, who, number)
        event = next((e for e in t.uow.requests.timeline(number) if e.id == event_id), None)
    refs = (event.data or {}).get("attachments") or () if event is not None else ()
    if not 0 <= position < len(refs) or picture_channel(refs[position]) is None:
        raise HTTPException(status_code=404, detail="web.photo_not_found")
    return refs[position]


@router.get("/requests/{number}/photos/{event_id}/{position}")
async def photo(number: int, event_id: int, position: int, http: HttpRequest,
                who: Viewer = Depends(viewer)) -> Response:
    """One picture of a request, for staff who may see the request; a placeholder when its channel cannot give it."""
    app = bot(http)
    ref = await run_in_threadpool(_picture_ref, app, who, number, event_id, position)
    found = await fetch(app, http.app.state.pictures, ref)
    if found is None:
        return placeholder(app, who.lang)
    data, kind = found
    return Response(data, media_type=kind, headers={"Cache-Control": KEPT_FOR, "X-Content-Type-Options": "nosniff"})


def placeholder(app: App, lang: str) -> Response:
    """A picture saying politely that the photo cannot be shown now; not kept, so a reload asks again."""
    catalog = app.services.catalog
    lines = [escape(catalog.text(lang, key)) for key in ("web.photo_unavailable", "web.photo_later")]
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120" role="img" '
           f'aria-label="{lines[0]}"><rect x="1" y="1" width="118" height="118" rx="6" fill="#f6f8fa" '
           'stroke="#d0d7de" stroke-width="2"/><g font-family="Noto Sans CJK SC, Noto Sans SC, sans-serif" '
           'text-anchor="middle" fill="#57606a">'
           f'<text x="60" y="58" font-size="13">{lines[0]}</text>'
           f'<text x="60" y="78" font-size="10">{lines[1]}</text></g></svg>')
    # 503: the picture exists but cannot be had now; browsers still draw the body in the <img>.
    return Response(svg, status_code=503, media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
