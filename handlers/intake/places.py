"""Building, unit and flat in a message: 3号楼, 3栋, 第3幢, 三号楼, 贰号楼叁单元, block 3, 3-2-502, 502室."""
from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.intake.numerals import NUMERAL_CHARS, to_int

_NUM = rf"((?<!\d)\d{{1,3}}|[{NUMERAL_CHARS}]{{1,4}})"
# (pattern, strength): a stronger kind of mention wins over an earlier weaker one.
_BUILDING = [
    (re.compile(r"(?<![\d.])(\d{1,3})-(\d{1,2})-(\d{3,4})(?!\d)"), 5),
    (re.compile(rf"第?{_NUM}\s*(?:号楼|号樓|#楼|#)"), 4),
    (re.compile(rf"第?{_NUM}\s*(?:栋|幢|座|号院)(?!楼)"), 3),
    (re.compile(rf"第?{_NUM}\s*(?:栋|幢)楼"), 3),
    (re.compile(r"\b(?:building|block|bldg\.?|blk\.?|tower)\s*(?:no\.?\s*)?(\d{1,3})\b", re.I), 4),
]
_UNIT = [
    re.compile(rf"{_NUM}\s*单元"),
    re.compile(r"\bunit\s*(?:no\.?\s*)?(\d{1,2})\b", re.I),
]
_ROOM = [
    re.compile(r"(?<![\dA-Za-z])(\d{3,4})\s*(?:室|房间|号房)"),
    re.compile(r"\b(?:room|flat|apt\.?|apartment)\s*(?:no\.?\s*)?(\d{3,4})\b", re.I),
    # A bare flat number: floor then door (502, 1201), not a year, an amount, a time or a plate.
    re.compile(r"(?<![\dA-Za-z.\-:/])([1-9]\d?0[1-9])(?![\d.:/]|\s*(?:年|元|块|米|点|分|号楼|栋|幢|度|人|户|斤|克|个))"),
]


@dataclass(frozen=True)
class Place:
    """Where a message says the problem is; each part None when not said."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None


def find_place(text: str) -> tuple[Place, list[str]]:
    """The place named in a (normalised) message and the words that named it."""
    evidence: list[str] = []
    building = unit = room = None
    best = None
    for pattern, strength in _BUILDING:
        for match in pattern.finditer(text):
            if best is None or strength > best[0] or (strength == best[0] and match.start() < best[1].start()):
                best = (strength, match)
    if best is not None:
        match = best[1]
        number = to_int(match.group(1))
        if number:
            building = str(number)
            evidence.append(match.group(0))
            if best[0] == 5:
                unit, room = str(int(match.group(2))), match.group(3)
    if unit is None:
        unit = _first_number(_UNIT, text, evidence)
    if room is None:
        room = _first_room(text, evidence)
    return Place(building, unit, room), evidence


def _first_number(patterns: list[re.Pattern], text: str, evidence: list[str]) -> str | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match and (number := to_int(match.group(1))):
            evidence.append(match.group(0))
            return str(number)
    return None


def _first_room(text: str, evidence: list[str]) -> str | None:
    for pattern in _ROOM:
        match = pattern.search(text)
        if match:
            evidence.append(match.group(0).strip())
            return match.group(1)
    return None
