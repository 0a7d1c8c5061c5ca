"""What the reader makes of a message (Reading), and what a report says of its category's things (Spoken)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Spoken:
    """What one report says of its category's things, of her own home, of a supply out."""

    things: frozenset[str]
    at_home: bool
    outage: bool


@dataclass(frozen=True)
class Reading:
    """What a careful community worker would make of one message."""

    kind: str                      # complaint | wish | none
    category: str | None
    building: str | None
    unit: str | None
    room: str | None
    urgent: bool
    call: tuple[str, ...] = ()     # the emergency numbers to call first, where life is at risk
    advice: str | None = None      # what to do meanwhile: a catalog key under advice.
    tagged: bool = False
    confident: bool = False        # sure enough to offer filing an untagged message
    evidence: tuple[str, ...] = field(default_factory=tuple)
    building_source: str | None = None
    says_nothing: bool = False     # nothing but a tag, a mention of the bot or a place: "#投诉", "#投诉 3号楼"
    mostly_place: bool = False     # a place and a few words: "7号楼2单元", "我家是2单元301 下午都在家"

    def as_record(self) -> dict:
        """The fields of ../shared/corpus/README.md, plus evidence."""
        return {"kind": self.kind, "category": self.category, "building": self.building, "unit": self.unit,
                "room": self.room, "urgent": self.urgent, "evidence": list(self.evidence)}
