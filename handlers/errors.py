"""The exceptions handlers raise: a UserError becomes a polite reply, anything else a generic apology.

    DoorstepError
    └── UserError              the person asked for something that cannot be done; reply with `key`
        ├── NotFound           no such request number
        ├── NotAllowed         the person may not act on this request
        ├── IllegalTransition  the request's state does not allow the action
        └── BadCommand         the command is malformed (missing number, bad rating)
"""
from __future__ import annotations

from typing import Any


class DoorstepError(Exception):
    """Base of every error this project raises on purpose."""


class UserError(DoorstepError):
    """An error the person caused and can fix: carries a catalog key and its parameters."""

    key = "error.generic_user"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)


class NotFound(UserError):
    """The request number does not exist."""

    key = "error.not_found"


class NotAllowed(UserError):
    """The sender may not do this to this request."""

    key = "error.not_allowed"


class IllegalTransition(UserError):
    """The request is in a state where this action makes no sense."""

    key = "error.illegal_transition"


class BadCommand(UserError):
    """The command could not be understood as written."""

    key = "error.bad_command"
