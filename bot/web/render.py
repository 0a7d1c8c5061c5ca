"""Server-rendered pages: Jinja2 templates filled with catalog texts in the viewer's language."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from bot.web.access import Viewer, bot, csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def page(http: HttpRequest, name: str, viewer: Viewer | None, *, status: int = 200, **context) -> HTMLResponse:
    """A page in the viewer's language (the community's when signed out), with its CSRF token for forms."""
    app = bot(http)
    catalog = app.services.catalog
    lang = viewer.lang if viewer else app.services.community.community.language
    zone = app.services.community.zone

    def when(at: datetime | None, pattern: str = "%m-%d %H:%M") -> str:
        return at.astimezone(zone).strftime(pattern) if at else catalog.text(lang, "web.none")

    context.update(viewer=viewer, lang=lang, csrf=csrf_token(http) if viewer else "",
                   t=lambda key, **params: catalog.text(lang, key, **params),
                   label=lambda group, value: catalog.label(lang, group, value), when=when,
                   role=catalog.label(lang, "role", viewer.role) if viewer else "")
    response = TEMPLATES.TemplateResponse(http, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # staff pages carry residents' words: no shared cache keeps them
    return response
