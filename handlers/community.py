"""The community as config.yaml describes it: people, grids, chats, categories, deadlines, schedule."""
from __future__ import annotations

from datetime import time, timedelta
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from handlers.community_checks import problems
from handlers.durations import parse_duration

CATEGORIES = (
    "elevator", "plumbing", "electricity", "heating", "sanitation", "parking", "noise",
    "safety", "facilities", "property", "neighbor", "help", "other",
)


def _duration(value: object) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError:  # told in the community's language, as config.problem.not_duration
        raise PydanticCustomError("not_duration", "not a duration: {value}", {"value": repr(value)}) from None


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Role = Literal["grid_member", "leader", "secretary", "volunteer", "property", "street"]
STAFF_ROLES = ("grid_member", "leader", "secretary")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Info(_Strict):
    """Who the community is and how the bot calls itself."""

    name: str
    timezone: str = "Asia/Shanghai"
    language: Literal["zh-CN", "en"] = "zh-CN"
    bot_name: str = "小区助手"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("unknown_zone", "unknown time zone {value}", {"value": repr(value)}) from None
        return value


class Member(_Strict):
    """A staff member, volunteer or contact: how to reach them on each channel."""

    id: str
    name: str
    role: Role
    phone: str | None = None
    language: Literal["zh-CN", "en"] = "zh-CN"
    contacts: dict[Literal["console", "telegram", "wechat"], str] = Field(default_factory=dict)
    bind_code: str | None = None

    @field_validator("contacts", mode="before")
    @classmethod
    def _contacts_as_text(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: str(v) for k, v in value.items() if v is not None}
        return value


class Grid(_Strict):
    """A grid (网格): its buildings, its grid member and the volunteers who take its micro-wishes."""

    id: str
    name: str
    member: str
    buildings: list[str]
    volunteers: list[str] = Field(default_factory=list)

    @field_validator("buildings", mode="before")
    @classmethod
    def _buildings_as_text(cls, value: object) -> object:
        return [str(b) for b in value] if isinstance(value, list) else value


class Chat(_Strict):
    """A building group chat and its id on each channel."""

    id: str
    name: str
    buildings: list[str] = Field(default_factory=list)
    console: str | None = None
    telegram: str | None = None
    wechat: str | None = None

    @field_validator("buildings", mode="before")
    @classmethod
    def _buildings_as_text(cls, value: object) -> object:
        return [str(b) for b in value] if isinstance(value, list) else value

    @field_validator("telegram", "wechat", "console", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return None if value is None else str(value)


class Category(_Strict):
    """Deadlines for one category, and who else hears of it."""

    respond: Duration
    resolve: Duration
    urgent_respond: Duration
    urgent_resolve: Duration
    inform: list[str] = Field(default_factory=list)


class QuietHours(_Strict):
    """Hours in which non-urgent messages to residents wait for morning."""

    start: time = time(22, 0)
    end: time = time(8, 0)


class Schedule(_Strict):
    """When reminders, escalations, re-asks and the digest happen."""

    remind_before: Duration = timedelta(minutes=30)
    escalate_again_after: Duration = timedelta(days=1)
    rating_reask: list[Duration] = Field(default_factory=lambda: [timedelta(days=1), timedelta(days=3)])
    close_unrated_after: Duration = timedelta(days=7)
    offer_expires_after: Duration = timedelta(days=1)
    duplicate_window: Duration = timedelta(days=7)
    news_every: Duration = timedelta(hours=1)
    digest_at: time = time(8, 0)
    sweep_every: Duration = timedelta(seconds=30)
    keep_history: Duration = timedelta(days=90)  # sent messages, finished follow-ups, the message ledger
    prune_at: time = time(3, 30)


class Points(_Strict):
    """Points a volunteer earns for a micro-wish."""

    claim: int = 5
    done: int = 10


class Community(_Strict):
    """Everything config.yaml says about the community, checked for consistency."""

    community: Info
    members: list[Member]
    grids: list[Grid]
    chats: list[Chat] = Field(default_factory=list)
    categories: dict[str, Category]
    escalation: list[str]
    quiet_hours: QuietHours = QuietHours()
    schedule: Schedule = Schedule()
    points: Points = Points()

    @model_validator(mode="after")
    def _consistent(self) -> Community:
        found = list(problems(self, CATEGORIES))
        if found:  # the Problems ride along, to be told in the community's language (bot/settings.py)
            raise PydanticCustomError("inconsistent", "{count} inconsistencies",
                                      {"count": len(found), "problems": found})
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        """The community's time zone."""
        return ZoneInfo(self.community.timezone)

    @cached_property
    def _members(self) -> dict[str, Member]:
        return {m.id: m for m in self.members}

    @cached_property
    def _grid_of_building(self) -> dict[str, Grid]:
        return {b: g for g in self.grids for b in g.buildings}

    def member(self, member_id: str) -> Member:
        """The member with this config id."""
        return self._members[member_id]

    def grid(self, grid_id: str) -> Grid | None:
        """The grid with this id, if any."""
        return next((g for g in self.grids if g.id == grid_id), None)

    def grid_of_building(self, building: str | None) -> Grid | None:
        """The grid a building belongs to, if the building is known."""
        return self._grid_of_building.get(building) if building else None

    def chat(self, channel: str, chat_id: str) -> Chat | None:
        """The configured group chat behind a channel's chat id."""
        return next((c for c in self.chats if getattr(c, channel, None) == chat_id), None)

    def building_of_chat(self, name: str | None) -> str | None:
        """The one building a chat stands for, by its id, name or console name; None for several or unknown."""
        chat = next((c for c in self.chats if name in (c.id, c.name, c.console)), None) if name else None
        return chat.buildings[0] if chat and len(chat.buildings) == 1 else None

    def first_with_role(self, role: str) -> Member | None:
        """The first member with a role, e.g. the secretary."""
        return next((m for m in self.members if m.role == role), None)
