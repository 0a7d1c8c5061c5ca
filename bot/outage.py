"""A failure that repeats on every run of a timer is logged once, with its traceback, and again when it ends."""
from __future__ import annotations

import logging


class Outage:
    """Tracks one repeating job; call failed() from its except block and worked() after a run that succeeded."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log, self.what, self.ongoing = log, what, False

    def failed(self, error: BaseException | None = None) -> None:
        """Log the failure in progress (the one being handled, or `error`): in full the first time, then quietly."""
        exc_info = error if error is not None else True
        if self.ongoing:
            self.log.debug("%s still failing", self.what, exc_info=exc_info)
        else:
            self.log.error("%s failed (logged again once it works)", self.what, exc_info=exc_info)
        self.ongoing = True

    def worked(self) -> None:
        """Say so if this run ended a failure."""
        if self.ongoing:
            self.log.warning("%s works again", self.what)
        self.ongoing = False
