"""Who may do what: one table of every command against the relations a person can have to a request.

Relations (computed by `relations`):
  anyone          everybody who writes to the bot
  reporter        filed the request                 follower   reported the same problem and follows it
  assignee        the request is theirs to handle   ladder     the leader, the secretary, or anyone on the
  grid_volunteer  a volunteer listed for the                     escalation ladder (小事不出网格、大事不出社区)
                  request's grid, on a micro-wish   offered    such a volunteer, while the wish waits for a claim
  grid_keeper     the member of the request's grid, who answers for it even while a volunteer or a colleague holds it
  informed        staff its category tells of (config `inform`, e.g. the property desk)
  leader, secretary, grid_member, volunteer, property, resident: the person's role
As the README says: the grid's volunteers take its micro-wishes (first to claim gets it); residents list, add to,
withdraw and rate their own requests, and whoever follows a request hears of it, may see where it stands and is
asked to rate it too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.errors import NotAllowed
from storage.models import Person, Request

if TYPE_CHECKING:
    from handlers.context import Turn

MANAGE = frozenset({"assignee", "ladder", "grid_keeper"})
FULL_VIEW = MANAGE | {"reporter", "informed", "offered"}  # 详情 in full; a follower sees where it stands
TABLE: dict[str, frozenset[str]] = {
    "claim": MANAGE | {"grid_volunteer"},
    "progress": MANAGE,
    "done": MANAGE,
    "transfer": MANAGE,
    "escalate": MANAGE,
    "merge": MANAGE,  # of both requests: merging hands the residents to the target's assignee
    "reject": MANAGE,
    "show": FULL_VIEW | {"follower"},
    "withdraw": frozenset({"reporter"}),
    "add": frozenset({"reporter", "follower"}),  # a follower reported the same problem: his detail counts too
    "rate": frozenset({"reporter", "follower"}),
    "mine": frozenset({"anyone"}),
    "overdue": frozenset({"ladder"}),  # 超时: every overdue request in the community
    "digest": frozenset({"ladder"}),  # 日报: the community's digest, asked for before its morning
    "help": frozenset({"anyone"}),
    "bind": frozenset({"anyone"}),  # the one-time code is the permission
    "bindchat": frozenset({"leader", "secretary"}),
    "settle": frozenset({"leader", "secretary"}),  # 已处理 N: a message kept after a failure was taken care of
    "web": frozenset({"grid_member", "leader", "secretary"}),  # 网页: the web workbench (handlers/signin.py)
}
REFUSED = {"withdraw": "error.not_yours", "add": "error.not_yours", "rate": "error.not_yours",
           "show": "error.not_yours_to_see",
           "bindchat": "bind.chat_secretary_only", "settle": "kept.leaders_only",
           "web": "web.staff_only", "overdue": "overdue.ladder_only",
           "digest": "digest.ladder_only"}  # every other refusal: error.not_allowed


def relations(t: Turn, person: Person, request: Request | None = None) -> set[str]:
    """What this person is to this request (or, without one, to the community)."""
    found = {"anyone", person.role}
    if person.staff_id is not None and (person.role in ("leader", "secretary")
                                        or person.staff_id in t.community.escalation):
        found.add("ladder")
    if request is None:
        return found
    if person.id == request.reporter_id:
        found.add("reporter")
    if person.id == request.assignee_id:
        found.add("assignee")
    if person.id in t.uow.requests.follower_ids(request.id):
        found.add("follower")
    grid = t.community.grid(request.grid) if request.grid else None
    if request.kind == "wish" and person.role == "volunteer" and grid and person.staff_id in grid.volunteers:
        found.add("grid_volunteer")
        if request.state == "assigned":
            found.add("offered")
    if person.staff_id is not None:
        if grid is not None and grid.member == person.staff_id:
            found.add("grid_keeper")
        if person.staff_id in t.community.categories[request.category].inform:
            found.add("informed")
    return found


def allowed(t: Turn, command: str, request: Request | None = None) -> bool:
    """Whether the table lets the sender do this command."""
    return not TABLE[command].isdisjoint(relations(t, t.person, request))


def check(t: Turn, command: str, request: Request | None = None) -> None:
    """Raise NotAllowed, with the reply that fits the command, unless the sender may do it."""
    if not allowed(t, command, request):
        raise NotAllowed(REFUSED.get(command), number=request.id if request else None)
