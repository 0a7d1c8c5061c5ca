"""The reader: one message in, a Reading out (kind, category, place, urgency) with the words that decided it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from handlers.intake.places import find_place

LEXICON = Path(__file__).with_name("lexicon.yaml")
URGENT_WEIGHT = 4
_ASCII_WORD = re.compile(r"^[a-z0-9 .'\-]+$")
_MEANINGFUL = re.compile(r"[\u3400-\u9fffa-z]")  # a character that can say what is wrong


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
    tagged: bool = False
    confident: bool = False        # sure enough to offer filing an untagged message
    evidence: tuple[str, ...] = field(default_factory=tuple)
    building_source: str | None = None
    says_nothing: bool = False     # nothing but a tag, a mention of the bot or a place: "#投诉", "#投诉 3号楼"

    def as_record(self) -> dict:
        """The fields of ../shared/corpus/README.md, plus evidence."""
        return {"kind": self.kind, "category": self.category, "building": self.building, "unit": self.unit,
                "room": self.room, "urgent": self.urgent, "evidence": list(self.evidence)}


class _Table:
    """Weighted words: Chinese matched as substrings, English as whole words, `re:…` as a pattern."""

    def __init__(self, weights: dict[str, int]) -> None:
        words = {w.lower(): int(v) for w, v in weights.items()}
        self.patterns = [(re.compile(w[3:]), v) for w, v in words.items() if w.startswith("re:")]
        self.cjk = [(w, v) for w, v in words.items() if not w.startswith("re:") and not _ASCII_WORD.match(w)]
        self.latin = {w: v for w, v in words.items() if _ASCII_WORD.match(w)}
        self.pattern = (re.compile(r"\b(" + "|".join(sorted(map(re.escape, self.latin), key=len, reverse=True)) + r")\b")
                        if self.latin else None)

    def score(self, text: str, ascii_text: bool) -> tuple[int, list[str]]:
        """The summed weight of this table's words found in text, and the words found."""
        hits, total = [], 0
        if not ascii_text:
            for word, weight in self.cjk:
                if word in text:
                    hits.append(word)
                    total += weight
        if self.pattern is not None:
            for found in {m.group(1) for m in self.pattern.finditer(text)}:
                hits.append(found)
                total += self.latin[found]
        for pattern, weight in self.patterns:
            if match := pattern.search(text):
                hits.append(match.group(0))
                total += weight
        return total, hits


class _Alarm:
    """One kind of emergency: its words (Chinese as substrings, English as whole words), whom to call."""

    def __init__(self, words: list[str], call: str | list[str] | None, category: str | None) -> None:
        self.call = tuple(str(c) for c in (call if isinstance(call, list) else [call]) if c)
        self.category = category
        words = [w.lower() for w in words]
        self.patterns = [re.compile(w[3:]) for w in words if w.startswith("re:")]
        self.cjk = [w for w in words if not w.isascii()]
        latin = sorted((w for w in words if w.isascii() and not w.startswith("re:")), key=len, reverse=True)
        self.pattern = re.compile(r"\b(" + "|".join(map(re.escape, latin)) + r")\b") if latin else None

    def find(self, text: str) -> str | None:
        """The first word of this emergency in the text, if any."""
        hit = next((w for w in self.cjk if w in text), None)
        if hit is None and self.pattern is not None and (match := self.pattern.search(text)):
            hit = match.group(1)
        for pattern in self.patterns if hit is None else ():
            if match := pattern.search(text):
                return match.group(0)
        return hit


class Reader:
    """Reads messages with the rules of a lexicon file; build once, call read() as often as needed."""

    def __init__(self, lexicon: dict, bot_name: str = "小区助手") -> None:
        pairs = "".join(lexicon.get("traditional", "").split())
        self._simplify = str.maketrans(pairs[0::2], pairs[1::2])
        self._tags = {kind: [t.lower() for t in tags] for kind, tags in lexicon["tags"].items()}
        self._urgent = [_Alarm(rule["words"], rule.get("call"), rule.get("category")) for rule in lexicon["urgent"]]
        self._not_urgent = sorted((p.lower() for p in lexicon.get("not_urgent", [])), key=len, reverse=True)
        self._categories = {name: _Table(words) for name, words in lexicon["categories"].items()}
        self._problems = _Table(lexicon["problems"])
        self._wishes = _Table(lexicon["wishes"])
        self._chatter = _Table(lexicon["chatter"])
        self._mention = "@" + bot_name.lower()
        tags = sorted({t for ts in self._tags.values() for t in ts}, key=len, reverse=True)
        # A tag told the bot what the message is; quoted back to people it is noise. Bare tags ("微心愿") only
        # lead a message: inside a sentence they are the resident's own words.
        self._tag_words = re.compile("|".join([r"[#＃]" + re.escape(t[1:]) for t in tags if t.startswith("#")]
                                              + [r"[@＠]" + re.escape(bot_name)]), re.IGNORECASE)
        self._lead_tag = re.compile(r"^\s*(?:" + "|".join(re.escape(t) for t in tags if not t.startswith("#"))
                                    + r")(?=[\s:：,，]|$)", re.IGNORECASE)
        self._mention_pattern = re.compile(r"[@＠]" + re.escape(bot_name) + r"[\u2005\u00a0\s]*", re.I)

    @classmethod
    def from_file(cls, path: Path = LEXICON, bot_name: str = "小区助手") -> Reader:
        """A reader using the lexicon file shipped with the project, or another one."""
        return cls(yaml.safe_load(path.read_text("utf-8")), bot_name)

    def normalise(self, text: str) -> str:
        """Half-width, lower-case, simplified characters: the form every rule is written against."""
        return unicodedata.normalize("NFKC", text).translate(self._simplify).lower().strip()

    def without_tags(self, text: str) -> str:
        """The message as people should see it quoted: without its tags and the bot's @name."""
        bare = self._lead_tag.sub(" ", self._tag_words.sub(" ", text))
        bare = re.sub(r"[ \t\u3000]{2,}", " ", bare).strip(" \t\u3000:：,，")
        return bare or text
    def without_mention(self, text: str) -> tuple[str, bool]:
        """The text with the bot's @name taken out, and whether it was there: what is left says what is wanted."""
        rest, count = self._mention_pattern.subn(" ", text)
        return rest.strip(), count > 0

    def read(self, text: str, chat_building: str | None = None, mentioned: bool = False) -> Reading:
        """Read one message; `chat_building` fills the building when the message names none."""
        norm = self.normalise(text)
        ascii_text = norm.isascii()
        evidence: list[str] = []
        tag = next((kind for kind, tags in self._tags.items() for t in tags if t in norm), None)
        if tag:
            evidence.append(next(t for t in self._tags[tag] if t in norm))
        mentioned = mentioned or self._mention in norm
        place, place_words = find_place(norm)
        rest = norm
        for word in [t for tags in self._tags.values() for t in tags] + [self._mention, *place_words]:
            rest = rest.replace(word, " ")
        call, urgent_words, urgent_categories = (), [], []
        calm = norm
        for phrase in self._not_urgent:
            calm = calm.replace(phrase, " ")
        for alarm in self._urgent:
            hit = alarm.find(calm)
            if hit:
                urgent_words.append(hit)
                urgent_categories.append(alarm.category)
                call = call or alarm.call
        scores = {name: table.score(norm, ascii_text) for name, table in self._categories.items()}
        problem, problem_words = self._problems.score(norm, ascii_text)
        wish, wish_words = self._wishes.score(norm, ascii_text)
        chatter, chatter_words = self._chatter.score(norm, ascii_text)
        best = max((s for n, (s, _) in scores.items() if n != "help"), default=0)
        help_score = scores["help"][0]

        urgent = bool(urgent_words) and (best >= 2 or problem >= 2 or bool(tag))
        kind = _kind(tag, urgent, best, help_score, problem, wish, chatter, mentioned)
        if urgent:
            # What endangers someone is what the report is about: a fire in the lift is a safety matter.
            for name in filter(None, urgent_categories):
                total, words = scores[name]
                scores[name] = (total + URGENT_WEIGHT, words)
        category = _category(kind, scores) if kind != "none" else None
        if kind != "none":
            evidence += scores[category][1] if category in scores else []
            evidence += problem_words if kind == "complaint" else wish_words
        else:
            evidence += chatter_words
        evidence += urgent_words if urgent else []
        confident = kind != "none" and (
            urgent or (kind == "complaint" and best >= 3 and problem >= 2 and chatter < 3)
            or (kind == "wish" and wish + help_score >= 5 and chatter < 3))
        building, source = place.building, "text" if place.building else None
        if building is None and chat_building and kind != "none":
            building, source = chat_building, "chat"
        return Reading(kind=kind, category=category, building=building, unit=place.unit, room=place.room,
                       urgent=urgent and kind != "none", call=call if urgent else (), tagged=bool(tag) or mentioned,
                       confident=confident, evidence=tuple(dict.fromkeys(place_words + evidence)),
                       building_source=source, says_nothing=not _MEANINGFUL.search(rest))


def _kind(tag: str | None, urgent: bool, best: int, help_score: int, problem: int, wish: int, chatter: int,
          mentioned: bool = False) -> str:
    if tag:
        return tag
    if wish >= 2 and wish + help_score > problem + best - 1 and chatter < wish + help_score:
        return "wish"
    if urgent:
        return "complaint"
    if help_score >= 3 and wish >= 2:
        return "wish"
    if best >= 2 and problem >= 2 and chatter < best + problem:
        return "complaint"
    if best >= 3 and problem >= 1 and chatter == 0:
        return "complaint"
    # Several words of one problem area and no chatter: a resident describing a problem without saying "broken".
    if best >= 5 and chatter == 0:
        return "complaint"
    # Said to the bot, naming a problem area or a fault is enough: "@小区助手 3号楼电梯不动了", "@小区助手 物业不作为".
    if mentioned and (problem >= 2 and chatter < best + problem or best >= 2 and chatter == 0):
        return "complaint"
    return "none"


def _category(kind: str, scores: dict[str, tuple[int, list[str]]]) -> str:
    ranked = sorted(scores.items(), key=lambda item: -item[1][0])
    if kind == "wish":
        help_score = scores["help"][0]
        top, (top_score, _) = next((n, s) for n, s in ranked if n != "help")
        return top if top_score > help_score and top_score >= 3 else "help"
    name, (score, _) = next((n, s) for n, s in ranked if n != "help")
    return name if score > 0 else "other"
