"""The timers: follow-ups, outbox, kept messages, daily digest and pruning. Nothing per-request lives in a job
store; the blocking jobs run in the scheduler's worker threads, off the event loop."""
from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outage import Outage

log = logging.getLogger(__name__)


def make_scheduler(app) -> AsyncIOScheduler:
    """An AsyncIOScheduler with the sweep, the outbox drain, the digest and the pruning crons, not yet started."""
    community = app.settings.community
    scheduler = AsyncIOScheduler(timezone=community.zone)
    every = dict(max_instances=1, coalesce=True)
    scheduler.add_job(_guarded(app.sweep), "interval", id="sweep",
                      seconds=community.schedule.sweep_every.total_seconds(), **every)
    # Each tick starts a background drain per channel, so WeChat's slow pacing never holds up Telegram.
    scheduler.add_job(app.sender.kick, "interval", id="outbox", seconds=1, **every)
    # Messages kept while the database was down; a coroutine, so it runs in the loop that keeps them.
    scheduler.add_job(app.retry_kept, "interval", id="kept", seconds=community.schedule.sweep_every.total_seconds(),
                      **every)
    digest_at = community.schedule.digest_at
    scheduler.add_job(_guarded(app.send_digest_if_due), "cron", id="digest", hour=digest_at.hour,
                      minute=digest_at.minute, misfire_grace_time=6 * 3600, **every)
    prune_at = community.schedule.prune_at
    scheduler.add_job(_guarded(app.prune), "cron", id="prune", hour=prune_at.hour, minute=prune_at.minute,
                      misfire_grace_time=6 * 3600, **every)
    return scheduler


def _guarded(job):
    """The job, with a failure logged once however many runs fail in a row, and its end logged too."""
    outage = Outage(log, f"timer job {getattr(job, '__name__', job)}")

    def run() -> None:
        try:
            job()
        except Exception:
            outage.failed()
            return
        outage.worked()
    return run
