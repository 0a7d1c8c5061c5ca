"""What the lexicon's rules find in one message, and what the rules alone make of it."""
from __future__ import annotations

from dataclasses import dataclass, field

from handlers.intake.decide import rule_kind
from handlers.intake.places import Place


@dataclass
class Findings:
    """What the lexicon's rules found in one normalised message."""

    norm: str
    tag: str | None
    mentioned: bool
    place: Place
    place_words: list[str]
    said_besides_place: int  # meaningful characters left once tags, the bot's name and the place are taken out
    call: tuple[str, ...]
    # (words, category, specific) of each emergency named; specific: a pattern, a phrase of three or more
    # Chinese characters or of several English words ("出不来", "拿刀追", "can't get up": yes; "窗外", "sparks":
    # no), which says enough on its own.
    alarms: list[tuple[str, str | None, bool]]
    scores: dict[str, tuple[int, list[str]]]
    problem: tuple[int, list[str]]
    wish: tuple[int, list[str]]
    chatter: tuple[int, list[str]]
    hurry: bool
    cues: dict[str, int] = field(default_factory=dict)  # how it is said: each cue's count of patterns matched
    # The chatter score without the words an emergency was named in: 走失 is lost-and-found talk, but in
    # "小孩走失了" it is the emergency itself, and cannot also make it chatter.
    chatter_beside_alarms: int = 0
    advice: str | None = None  # the first emergency named: what to do meanwhile
    called_off: bool = False  # words that say the danger was none or is over ("虚惊一场", "已经放出来了")

    @property
    def says_nothing(self) -> bool:
        """Nothing but a tag, the bot's name or a place: "#投诉", "#投诉 3号楼"."""
        return self.said_besides_place == 0

    @property
    def best(self) -> int:
        return max((s for n, (s, _) in self.scores.items() if n != "help"), default=0)

    @property
    def urgent(self) -> bool:
        # An emergency word alone is no emergency ("我困了", "fire up the grill"): it must describe a problem,
        # and not be told as chatter (thanks for a past rescue, a forwarded article) unless someone says hurry.
        specific = any(sure for _, _, sure in self.alarms)
        return bool(self.alarms) and (self.best >= 2 or self.problem[0] >= 2 or bool(self.tag) or specific) and (
            not self.told_as_chatter)

    @property
    def told_as_chatter(self) -> bool:
        """An emergency named in what sounds like chatter (a tip, news, thanks for a past rescue) and no hurry."""
        return bool(self.alarms) and self.chatter_beside_alarms >= 3 and not self.hurry

    @property
    def not_now(self) -> bool:
        """A danger the rules read as not happening here and now: told as chatter, called off, news from elsewhere
        or a what-if. An alarm of the model's own must not overrule them."""
        return self.told_as_chatter or self.called_off or bool(self.cues.keys() & {"elsewhere", "supposes"})

    def rule_kind(self) -> str:
        return rule_kind(self.tag, self.urgent, self.best, self.scores["help"][0], self.problem[0], self.wish[0],
                     self.chatter[0])

    def signals(self) -> dict[str, float]:
        """The rules' findings as model features, scaled to about 1."""
        # Scaled so that a category's usual word (2) or an emergency weighs about as much as several n-grams:
        # the cross-validated category figure is best so.
        out = {f"lex:{name}": min(score, 9) / 1.5 for name, (score, _) in self.scores.items() if score}
        out.update({"lex:problem": min(self.problem[0], 8) / 2, "lex:wish": min(self.wish[0], 8) / 2,
                    "lex:chatter": min(self.chatter[0], 9) / 3, f"rule:{self.rule_kind()}": 1.0})
        out.update({f"alarm:{category}": 3.0 for _, category, _ in self.alarms})
        # Each chatter, problem and wish word on its own too: the model learns which of them to trust.
        for table, (_, words) in (("chatter", self.chatter), ("problem", self.problem), ("wish", self.wish)):
            out.update({f"{table}:{word}": 1.0 for word in words})
        if self.tag:
            out[f"tag:{self.tag}"] = 1.0
        out.update({f"cue:{name}": float(count) for name, count in self.cues.items()})
        return {name: value for name, value in out.items() if value}


def names_a_problem(found: Findings) -> bool:
    """Said to the bot, naming a problem area or a fault is enough: "@小区助手 3号楼电梯不动了", "@小区助手 物业不作为"."""
    problem, chatter = found.problem[0], found.chatter[0]
    return problem >= 2 and chatter < found.best + problem or found.best >= 2 and chatter == 0
