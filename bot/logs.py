"""Logging set-up, in one place: no secret from the environment ever reaches a log line.

httpx logs every request URL at INFO, and a Telegram Bot API URL carries the bot token
(…/bot123456:ABC…/getUpdates); python-telegram-bot's and the Wechaty SDK's errors and tracebacks can quote
tokens too. The filter sits on the handlers, so it sees every record of every library as it is written out.
"""
from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SECRETS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "WECHATY_PUPPET_SERVICE_TOKEN")
HIDDEN = "***"
# Shapes of secrets that may not come from our environment: any bot token, a password in a URL.
PATTERNS = (re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"), re.compile(r"(?<=://)[^:/@\s]+:[^@/\s]+(?=@)"))


class Redact(logging.Filter):
    """Replaces secrets in a record's message, traceback and stack with ***."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """The text with every known secret and every token-shaped string hidden."""
        for secret in self.secrets:
            text = text.replace(secret, HIDDEN)
        for pattern in PATTERNS:
            text = pattern.sub(HIDDEN, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            record.msg, record.args = self.redact(record.getMessage()), None
        except Exception:  # a malformed record: leave it to the handler, which reports it
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure(verbose: bool, env: Mapping[str, str], stream: TextIO | None = None) -> logging.Handler:
    """Log to stderr (INFO with --verbose, else WARNING), with secrets hidden; returns the handler added."""
    redact = Redact([env.get(name, "") for name in SECRETS])
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for each in root.handlers:
        each.addFilter(redact)
    return handler
