"""Messages kept in a file while the database cannot take them, handled once it can again: none is lost.

A platform counts a message as delivered once the bot has received it (Telegram moves its offset on), so a
message the database refused would otherwise be gone. One JSON line per message, flushed to disk before
`keep` returns. Used from the event loop's thread only, so keeping and replaying never interleave.

A kept message that fails for another reason than the database being away (something in it no code foresaw) is
tried MAX_TRIES times in all, then moved to a dead-letter file beside the spool, so one message never stops the
intake of all the others.
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
MAX_TRIES = 3


class Spool:
    """An append-only JSON-lines file of inbound messages waiting for the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dead_path = path.with_name(path.stem + "-dead" + path.suffix)
        self.waiting = len(self._lines())  # kept messages, counted here so the hot path never touches the file

    def keep(self, message: Inbound) -> None:
        """Append one message and make sure it is on disk."""
        _append(self.path, asdict(message))
        self.waiting += 1

    def replay(self, handle: Callable[[Inbound], None], *, transient: Callable[[BaseException], bool],
               dead: Callable[[Inbound], None] = lambda _message: None) -> int:
        """Hand the kept messages to handle, oldest first, until one fails again; return how many were handled.

        Those handled leave the file; the one that failed and those after it stay for the next try, unless it
        failed MAX_TRIES times for a reason `transient` does not excuse: then it goes to the dead-letter file,
        `dead` is called with it, and the rest go on. A message handled before it was kept (the failure came after
        the commit) is a no-op the second time.
        """
        lines = self._lines()
        handled, left = 0, []
        for index, line in enumerate(lines):
            data = json.loads(line)
            tries = data.pop("tries", 0)
            message = _inbound(data)
            try:
                handle(message)
            except Exception as error:
                if not transient(error):
                    tries += 1
                    if tries >= MAX_TRIES:
                        self._bury(message, error, dead)
                        handled += 1
                        continue
                log.debug("kept message failed again (%d kept wait)", len(lines) - index, exc_info=True)
                left = [json.dumps({**data, "tries": tries}, ensure_ascii=False) if tries else line, *lines[index + 1:]]
                break
            handled += 1
        if handled or left[:1] != lines[handled:handled + 1]:
            self._rewrite(left)
        self.waiting = len(left)
        return handled

    def _bury(self, message: Inbound, error: BaseException, dead: Callable[[Inbound], None]) -> None:
        log.error("a kept message failed %d times and was moved to %s: channel=%s chat=%s message=%s: %s",
                  MAX_TRIES, self.dead_path, message.channel, message.chat_id, message.message_id,
                  type(error).__name__)
        _append(self.dead_path, {**asdict(message), "error": type(error).__name__})
        try:
            dead(message)
        except Exception:
            log.exception("could not tell anyone of the dead-letter message %s", message.message_id)

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


def _append(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        # ASCII escapes: a lone surrogate that slipped past the edge is still written, never raises here.
        file.write(json.dumps(data) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _inbound(data: dict) -> Inbound:
    data["attachments"] = tuple(data.get("attachments") or ())
    return Inbound(**data)
