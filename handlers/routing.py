"""Who handles a request: building → grid → grid member, with category overrides and wish volunteers."""
from __future__ import annotations

from dataclasses import dataclass

from handlers.community import Community


@dataclass(frozen=True)
class Route:
    """The outcome of routing: the responsible staff member, who else hears, who may claim."""

    grid: str | None
    assignee: str
    inform: tuple[str, ...]
    volunteers: tuple[str, ...]


def route(community: Community, building: str | None, category: str, kind: str,
          chat_buildings: tuple[str, ...] = ()) -> Route:
    """Route a request; with no known building it goes to the first rung of the escalation ladder to triage."""
    grid = community.grid_of_building(building)
    if grid is None and not building and chat_buildings:
        grid_ids = {g.id for b in chat_buildings if (g := community.grid_of_building(b))}
        grid = community.grid(grid_ids.pop()) if len(grid_ids) == 1 else None
    inform = tuple(community.categories[category].inform)
    if grid is None:
        return Route(None, community.escalation[0], inform, ())
    volunteers = tuple(grid.volunteers) if kind == "wish" else ()
    return Route(grid.id, grid.member, inform, volunteers)


def ladder(community: Community, level: int) -> str | None:
    """Who hears an escalation to this level (1 = the first rung above the grid member)."""
    rungs = community.escalation
    return rungs[level - 1] if 0 < level <= len(rungs) else None
