"""Messages kept in a file while the database cannot take them, handled once it can again: none is lost.

A platform counts a message as delivered once the bot has received it (Telegram moves its offset on), so a
message the database refused would otherwise be gone. One JSON line per message, flushed to disk before
`keep` returns. Used from the event loop's thread only, so keeping and replaying never interleave.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from handlers.messages import Inbound

log = logging.getLogger(__name__)


class Spool:
    """An append-only JSON-lines file of inbound messages waiting for the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.waiting = len(self._lines())  # kept messages, counted here so the hot path never touches the file

    def keep(self, message: Inbound) -> None:
        """Append one message and make sure it is on disk."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")
            file.flush()
            os.fsync(file.fileno())
        self.waiting += 1

    def replay(self, handle: Callable[[Inbound], None]) -> int:
        """Hand the kept messages to handle, oldest first, until one fails again; return how many were handled.

        Those handled leave the file; the one that failed and those after it stay for the next try. A message
        handled before it was kept (the failure came after the commit) is a no-op the second time.
        """
        lines = self._lines()
        handled = 0
        for line in lines:
            try:
                handle(_inbound(json.loads(line)))
            except Exception:
                log.warning("database still unavailable: %d kept message(s) wait", len(lines) - handled)
                break
            handled += 1
        if handled:
            self._rewrite(lines[handled:])
        self.waiting = len(lines) - handled
        return handled

    def _lines(self) -> list[str]:
        try:
            return [line for line in self.path.read_text("utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            return []

    def _rewrite(self, lines: list[str]) -> None:
        if not lines:
            self.path.unlink(missing_ok=True)
            return
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text("".join(line + "\n" for line in lines), "utf-8")
        os.replace(partial, self.path)  # a crash leaves either the old file or the new one, never half of one


def _inbound(data: dict) -> Inbound:
    data["attachments"] = tuple(data.get("attachments") or ())
    return Inbound(**data)
