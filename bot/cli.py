"""The command line: run, digest, check-config, read. Every mistake is told in one line, with a non-zero exit."""
from __future__ import annotations

import asyncio
import gc
import json
import sys
from datetime import datetime
from pathlib import Path

import typer
from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot import logs
from bot.app import App, build_app
from bot.channels.console import ConsoleChannel, ConsoleSession
from bot.channels.telegram import telegram_channel
from bot.channels.wechat import wechat_channel
from bot.scheduler import make_scheduler
from bot.settings import ConfigError, Settings
from bot.web.server import serve_web
from handlers.catalog import Catalog
from handlers.clock import FakeClock, SystemClock
from handlers.intake import Reader

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="doorstep (家门口): the community request bot.")
LISTENING = ("telegram", "wechat")  # channels that receive on their own once started
SHUTDOWN_DRAIN = 10.0  # seconds
SEND_GRACE = 10.0  # seconds a message being sent at shutdown may take to finish (then its lease decides)
CONFIG = typer.Option(Path("config.yaml"), "--config", "-c", help="The community's config file.")


def _settings(path: Path) -> Settings:
    try:
        return Settings.load(path)
    except ConfigError as error:
        typer.echo(error.explain(), err=True)
        raise typer.Exit(2) from None


def _fail(settings: Settings, key: str, code: int = 1, **params) -> typer.Exit:
    """Say what went wrong in one line, in the community's language; the Exit to raise."""
    typer.echo(Catalog.load().text(settings.community.community.language, f"cli.{key}", **params), err=True)
    return typer.Exit(code)


def _app(settings: Settings, **kw) -> App:
    """build_app, with a database that cannot be used told in one line rather than a traceback."""
    url = settings.database_url
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = "DATABASE_URL"  # unparsable: it may hold a password in any place
    try:
        return build_app(settings, **kw)
    except (ArgumentError, ImportError) as error:  # not a URL, or no driver for it
        raise _fail(settings, "database_url", url=shown, error=_first_line(error)) from None
    except (SQLAlchemyError, CommandError, OSError) as error:  # no answer, refused, unknown schema, no file
        raise _fail(settings, "database_down", url=shown,
                    error=_first_line(getattr(error, "orig", None) or error)) from None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def _script(settings: Settings, path: Path) -> list[str]:
    try:
        return path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise _fail(settings, "script_missing", 2, path=path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(settings, "script_unreadable", 2, path=path, error=_first_line(error)) from None


@cli.command()
def run(config: Path = CONFIG,
        script: Path | None = typer.Option(None, help="Play a console script file instead of reading the terminal."),
        dev: bool | None = typer.Option(None, "--dev/--no-dev", help="Dev mode: a clock moved by /advance."),
        verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Start every channel enabled in config (console; Telegram and WeChat when their env vars are set) with timers."""
    settings = _settings(config)
    logs.configure(verbose, settings.env)  # before any channel exists: no token ever reaches a log line
    console_settings = settings.channels.console
    if script is not None and not console_settings.enabled:
        raise _fail(settings, "script_needs_console", 2)
    lines = _script(settings, script) if script else None
    dev = console_settings.dev if dev is None else dev
    clock = FakeClock(SystemClock().now()) if dev else SystemClock()
    channels: dict = {}
    console = ConsoleChannel(bot_name=settings.community.community.bot_name) if console_settings.enabled else None
    if console:
        channels["console"] = console
    if telegram := telegram_channel(settings):
        channels["telegram"] = telegram
    if wechat := wechat_channel(settings):
        channels["wechat"] = wechat
    app = _app(settings, clock=clock, channels=channels)
    if dev:  # a dev session goes on from the day an earlier one moved to, never back in time
        _resume_dev_time(app)
    session = (ConsoleSession(app, console, speaker=console_settings.speaker, chat=console_settings.chat,
                              echo=script is not None) if console else None)
    # What start-up built (config, lexicon, the model's vocabulary, compiled statements) lives as long as the
    # process: leave it out of the collector's full passes, which stop every thread, the event loop included
    # (40-130 ms each while the sweep makes garbage, against 10-55 ms without it).
    gc.freeze()
    # The event loop handles a message in many short steps between database round trips; each time it wants the
    # interpreter back from a busy worker thread (the sweep, the digest) it waits up to this interval. At the
    # default 5 ms a report filed during a sweep took p99 190 ms and stalled the loop 311 ms; at 1 ms, 67 / 73 ms
    # (bench/scale_jobs.py), and the sweep itself went faster.
    sys.setswitchinterval(0.001)
    asyncio.run(_serve(app, session, lines))


async def _serve(app: App, session: ConsoleSession | None, lines: list[str] | None) -> None:
    if lines is not None:
        await session.run(lines)
        await app.drain()
        return
    scheduler = make_scheduler(app)
    scheduler.start()
    remote = [app.channels[name] for name in LISTENING if name in app.channels]
    web = asyncio.create_task(serve_web(app)) if app.settings.web.enabled else None
    try:
        for channel in remote:
            await channel.start(app.handle)
        await app.tick()
        if session is not None:
            await session.interactive()
        else:
            await asyncio.Event().wait()
    finally:
        if web is not None:
            web.cancel()
        scheduler.shutdown(wait=False)
        await app.sender.stop(grace=SEND_GRACE)
        for channel in remote:
            await channel.stop()
        try:  # what is still due goes out now; a slowly paced backlog waits in the outbox for the next start
            await asyncio.wait_for(app.drain(), SHUTDOWN_DRAIN)
        except asyncio.TimeoutError:
            pass


def _resume_dev_time(app: App) -> None:
    moved_to = app.dev_time()
    if moved_to is not None and moved_to > app.clock.now():
        app.clock.now_is(moved_to)


@cli.command()
def digest(config: Path = CONFIG,
           at: str | None = typer.Option(None, help="The moment to write it for, e.g. 2026-11-23T08:00 (community "
                                                    "time); default now, or the console's dev-mode time.")) -> None:
    """Print the digest due at a moment (yesterday's figures) without sending it."""
    settings = _settings(config)
    clock = FakeClock(SystemClock().now())
    moment = _moment(settings, at) if at is not None else None
    app = _app(settings, clock=clock)
    if moment is not None:
        clock.now_is(moment)
    elif settings.channels.console.enabled and settings.channels.console.dev and (moved_to := app.dev_time()):
        clock.now_is(moved_to)  # after a dev-mode console session: the day it was moved to
    typer.echo(app.digest_text())


def _moment(settings: Settings, at: str) -> datetime:
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise _fail(settings, "bad_at", 2, at=at) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.community.zone)


@cli.command("check-config")
def check_config(config: Path = CONFIG) -> None:
    """Check config.yaml and say exactly what is wrong, key by key."""
    settings = _settings(config)
    c = settings.community
    typer.echo(Catalog.load().text(c.community.language, "config.fine", path=config, name=c.community.name,
                                   grids=len(c.grids), buildings=sum(len(g.buildings) for g in c.grids),
                                   members=len(c.members), chats=len(c.chats)))


@cli.command()
def read(config: Path = CONFIG) -> None:
    """Read messages from standard input (text or JSON with `text` and optional `chat`), print what they say."""
    settings = _settings(config)
    community = settings.community
    reader = Reader.from_file(bot_name=community.community.bot_name)
    for raw in _stdin_lines(settings):
        raw = raw.strip()
        if not raw:
            continue
        text, chat_building = raw, None
        if raw.startswith("{"):
            try:
                item = json.loads(raw)
                text = str(item["text"])
            except (ValueError, KeyError, TypeError):
                typer.echo(json.dumps({"error": "not a JSON object with a text field", "line": raw},
                                      ensure_ascii=False))
                continue
            chat_building = community.building_of_chat(item.get("chat"))
        record = reader.read(text, chat_building=chat_building).as_record()
        typer.echo(json.dumps({"text": text, **record}, ensure_ascii=False))


def _stdin_lines(settings: Settings):
    try:
        yield from sys.stdin
    except UnicodeDecodeError:
        raise _fail(settings, "stdin_not_text", 2) from None


def main() -> None:
    """Entry point of `doorstep` and `python -m bot`: a mistake on the command line is one line, not a usage box."""
    if not sys.argv[1:]:  # what the commands are, rather than an error
        cli(["--help"], prog_name="doorstep", standalone_mode=False)
        sys.exit(2)
    try:
        code = cli(prog_name="doorstep", standalone_mode=False)
    except typer.TyperException as error:  # click's, as typer ships it: an unknown option, a missing value, …
        ctx = getattr(error, "ctx", None)
        typer.echo(f"{ctx.command_path if ctx else 'doorstep'}: " + " ".join(error.format_message().split()), err=True)
        code = getattr(error, "exit_code", 2)
    except typer.Abort:
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
