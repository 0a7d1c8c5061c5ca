"""The lexicon's word tables: weighted category, problem, wish and chatter words, and the words of each emergency."""
from __future__ import annotations

import re

_ASCII_WORD = re.compile(r"^[a-z0-9 .'\-]+$")


def any_of(words: list[str]) -> re.Pattern:
    """One search for a lexicon list, matched as Table matches its words: Chinese as substrings, English as whole
    words, `re:…` as a pattern; a list that is empty finds nothing."""
    found = [w[3:] if w.startswith("re:") else rf"\b{re.escape(w)}\b" if _ASCII_WORD.match(w) else re.escape(w)
             for w in sorted((w.lower() for w in words), key=len, reverse=True)]
    return re.compile("|".join(found) or "(?!)")


class Table:
    """Weighted words: Chinese matched as substrings, English as whole words, `re:…` as a pattern."""

    def __init__(self, weights: dict[str, int]) -> None:
        words = {w.lower(): int(v) for w, v in weights.items()}
        self.patterns = [(re.compile(w[3:]), v) for w, v in words.items() if w.startswith("re:")]
        self.cjk = [(w, v) for w, v in words.items() if not w.startswith("re:") and not _ASCII_WORD.match(w)]
        self.latin = {w: v for w, v in words.items() if _ASCII_WORD.match(w)}
        self.pattern = (re.compile(r"\b(" + "|".join(sorted(map(re.escape, self.latin), key=len, reverse=True)) + r")\b")
                        if self.latin else None)

    def score(self, text: str, cjk_found: list[tuple[int, str, int]]) -> tuple[int, list[str]]:
        """The summed weight of this table's words found in text, and the words found; its Chinese words
        found are given, by Index.find."""
        found = sorted(cjk_found)
        hits, total = [word for _, word, _ in found], sum(weight for _, _, weight in found)
        if self.pattern is not None:
            for found in {m.group(1) for m in self.pattern.finditer(text)}:
                hits.append(found)
                total += self.latin[found]
        for pattern, weight in self.patterns:
            if match := pattern.search(text):
                hits.append(match.group(0))
                total += weight
        return total, hits


class Index:
    """The Chinese words of several tables by their first character, found in one pass over a message: a
    message has few distinct characters, so only words that could occur in it are looked for (the reader's
    speed depends on it)."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self.by_first: dict[str, dict[str, list[tuple[str, int, int]]]] = {}
        for key, table in tables.items():
            for order, (word, weight) in enumerate(table.cjk):
                self.by_first.setdefault(word[0], {}).setdefault(word, []).append((key, order, weight))

    def find(self, text: str) -> dict[str, list[tuple[int, str, int]]]:
        """Per table, the (order in the table, word, weight) of each of its Chinese words in text."""
        out: dict[str, list[tuple[int, str, int]]] = {}
        for ch in set(text):
            for word, entries in self.by_first.get(ch, {}).items():
                if word in text:
                    for key, order, weight in entries:
                        out.setdefault(key, []).append((order, word, weight))
        return out


class Alarm:
    """One kind of emergency: its words (Chinese as substrings, English as whole words), whom to call, what to do
    meanwhile (a catalog key under `advice.`)."""

    def __init__(self, words: list[str], call: str | list[str] | None, category: str | None,
                 advice: str | None = None) -> None:
        self.call = tuple(str(c) for c in (call if isinstance(call, list) else [call]) if c)
        self.category, self.advice = category, advice
        words = [w.lower() for w in words]
        # Each pattern searched on its own: one alternation of them all is searched without the engine's quick
        # scan for a pattern's first characters, and took three times as long (the reader's hot path).
        self.patterns = [re.compile(w[3:]) for w in words if w.startswith("re:")]
        self.cjk = [w for w in words if not w.isascii()]
        latin = sorted((w for w in words if w.isascii() and not w.startswith("re:")), key=len, reverse=True)
        self.pattern = re.compile(r"\b(" + "|".join(map(re.escape, latin)) + r")\b") if latin else None

    def find(self, text: str) -> tuple[str, bool] | None:
        """The first word of this emergency in the text, if any, and whether a pattern found it (a pattern is
        written to say enough on its own; a single word may not: 困, 着火)."""
        hit = next((w for w in self.cjk if w in text), None)
        if hit is None and self.pattern is not None and (match := self.pattern.search(text)):
            hit = match.group(1)
        # A short word alone ("水漫") is looked at again with the patterns, which may say more ("水漫上来").
        if hit is None or (len(hit) < 3 and not hit.isascii()):
            # The leftmost match, the first pattern's at a tie: what one alternation of the patterns would find.
            first = None
            for pattern in self.patterns:
                if (match := pattern.search(text)) and (first is None or match.start() < first.start()):
                    first = match
            if first is not None:
                return first.group(0), True
        return (hit, False) if hit is not None else None
