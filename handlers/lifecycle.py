"""The one state machine of a request: which action is allowed from which state, and where it leads.

new → assigned → claimed → done → closed, with reopened (not satisfied), merged (duplicate of another),
withdrawn (by the resident) and rejected (not the community's to handle). Escalation is a level, not a state.
"""
from __future__ import annotations

from datetime import datetime

from handlers.errors import IllegalTransition
from storage.models import Request

WORKING = frozenset({"new", "assigned", "claimed", "reopened"})
TERMINAL = frozenset({"closed", "merged", "withdrawn", "rejected"})

# action: (states it is allowed from, state it leads to; None keeps the state)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "assign": (frozenset({"new"}), "assigned"),
    "claim": (frozenset({"new", "assigned", "reopened"}), "claimed"),
    "progress": (frozenset({"claimed", "reopened"}), None),
    "done": (frozenset({"assigned", "claimed", "reopened"}), "done"),
    "transfer": (WORKING, "assigned"),
    "escalate": (WORKING, None),
    "merge": (WORKING, "merged"),
    "reject": (WORKING, "rejected"),
    "withdraw": (WORKING, "withdrawn"),
    "add_detail": (WORKING | {"done"}, None),
    "satisfied": (frozenset({"done"}), "closed"),
    "unsatisfied": (frozenset({"done"}), "reopened"),
    "close_unrated": (frozenset({"done"}), "closed"),
}


def allows(request: Request, action: str) -> bool:
    """Whether the action may be applied to the request in its current state."""
    return request.state in TRANSITIONS[action][0]


def check(request: Request, action: str) -> None:
    """Raise IllegalTransition when the action is not allowed in the request's state."""
    if not allows(request, action):
        raise IllegalTransition(number=request.id, state=request.state, action=action)


def apply(request: Request, action: str, at: datetime) -> str:
    """Move the request by an action, or raise IllegalTransition and change nothing; return the old state."""
    check(request, action)
    target = TRANSITIONS[action][1]
    before = request.state
    if target is not None:
        request.state = target
    if action in ("claim", "done") and request.responded_at is None:
        request.responded_at = at
    if action == "done":  # every 办结 asks for a fresh rating, with its own re-asks and closing
        request.done_at = at
        request.rating_round += 1
    if target in TERMINAL:
        request.closed_at = at
    if action == "unsatisfied":
        request.done_at = None
    request.updated_at = at
    return before
