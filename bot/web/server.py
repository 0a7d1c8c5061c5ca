"""The web app (FastAPI) and how the bot's own process serves it: uvicorn as a task in the bot's event loop."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import timedelta
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request as HttpRequest
from fastapi.exceptions import HTTPException
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from bot.app import App
from bot.web import export, figures, pages, photos
from bot.web.open311 import open311_router
from bot.web.access import SignedOut
from bot.web.render import page

log = logging.getLogger(__name__)
MESSAGES = {400: "web.bad_form", 403: "web.forbidden", 404: "web.not_found"}


def create_web_app(app: App) -> FastAPI:
    """The workbench for a wired bot; its pages read and act through the bot's repositories and dispatcher."""
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.bot = app
    settings = app.settings.web
    web.state.pictures = photos.PictureCache(int(settings.photo_cache_mb * 1024 * 1024))
    web.add_middleware(SessionMiddleware, secret_key=app.services.links.secret, session_cookie="doorstep",
                       max_age=int(timedelta(hours=settings.session_hours).total_seconds()), same_site="lax",
                       https_only=settings.secure_cookie)
    web.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")
    web.include_router(pages.router)
    web.include_router(photos.router)
    web.include_router(figures.router)
    web.include_router(export.router)
    web.include_router(open311_router(app))  # authorised by API key, answered in the spec's JSON, never HTML

    @web.exception_handler(SignedOut)
    async def _signed_out(http: HttpRequest, _error: SignedOut):
        return RedirectResponse("/signed-out", status_code=303)

    @web.exception_handler(HTTPException)
    async def _refused(http: HttpRequest, error: HTTPException):
        key = error.detail if isinstance(error.detail, str) and error.detail.startswith("web.") else None
        return page(http, "message.html", None, status=error.status_code,
                    keys=[key or MESSAGES.get(error.status_code, "web.error")])

    @web.exception_handler(Exception)
    async def _failed(http: HttpRequest, error: Exception):
        log.error("web page failed: %s %s: %s", http.method, http.url.path, type(error).__name__, exc_info=error)
        return page(http, "message.html", None, status=500, keys=["web.error"])

    return web


async def serve_web(app: App) -> None:
    """Serve the workbench until cancelled; a port that cannot be had is logged and leaves the bot running."""
    settings = app.settings.web
    try:
        sock = socket.create_server((settings.listen, settings.port), reuse_port=False)
    except OSError as error:
        log.error("web workbench not started: cannot listen on %s:%s: %s", settings.listen, settings.port, error)
        return
    # No access log: a sign-in link's token is in its path; our own log lines never carry a URL's query.
    config = uvicorn.Config(create_web_app(app), log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # the bot's process owns its signals (Ctrl-C, SIGTERM)
    log.info("web workbench on http://%s:%s", settings.listen, sock.getsockname()[1])
    try:
        await server.serve(sockets=[sock])
    except asyncio.CancelledError:
        server.should_exit = True
        raise
    finally:
        sock.close()
