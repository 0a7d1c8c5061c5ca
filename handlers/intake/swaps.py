"""Copies of the training lines that teach the kind model what does not decide a message's kind.

Requests and chatter name the same things (a lift, the heating, a neighbour's dog); what tells them apart is how a
message is said: "坏了三天", "修好了", "敬请谅解". Trained only on the corpus's lines, the model also learns which
topics happened to be chatter more often in them, and that a greeting or a thanks is chatter (notices open with
大家好): "大家好 电梯显示屏楼层乱跳" was read as chatter, and so was half of every request with 网格员在吗 after it.
Copies of each line with its topic swapped for another of the lexicon's `topics`, and with one of its `openers` or
`closers` around it, labelled with the same kind, take that away. Written by hand: augmentation libraries bring a
thesaurus or a language model for what is a list and a replacement here.
"""
from __future__ import annotations

import random

# Copies of each line that names a topic: with 2, chatter offered at the shipped margin fell from 2.0% to 1.5% in
# cross-validation; 1 gave 1.7% and 4 gave 1.6%.
COPIES = 2


def swapped(rows: list[dict], topics: list[str]) -> list[dict]:
    """Copies of the labelled lines that name a topic, with it replaced by another, marked `copy`: they teach the
    kind of a message only (their category and urgency may no longer fit)."""
    longest_first = sorted(topics, key=len, reverse=True)
    copies = []
    for row in rows:
        # The longest topic named ("暖气片", not "暖气"), swapped wherever it is said; the rest stays as written.
        named = next((t for t in longest_first if t in row["text"]), None)
        if named is None:
            continue
        # Seeded with the line itself: the same corpus gives the same copies, whatever their order.
        chance = random.Random(row["text"])
        others = [t for t in topics if t != named]
        copies += [{**row, "text": row["text"].replace(named, chance.choice(others)), "copy": True}
                   for _ in range(COPIES)]
    return copies


def wrapped(rows: list[dict], openers: list[str], closers: list[str]) -> list[dict]:
    """A copy of each labelled line with a greeting before it, a thanks or a call after it, or both, marked `copy`."""
    if not openers or not closers:
        return []
    copies = []
    for row in rows:
        chance = random.Random("wrapped" + row["text"])
        before = chance.choice(openers) + chance.choice([" ", "，", "! "]) if chance.random() < 0.6 else ""
        after = chance.choice([" ", "，", "。"]) + chance.choice(closers) if not before or chance.random() < 0.4 else ""
        copies.append({**row, "text": before + row["text"] + after, "copy": True})
    return copies


def copies(rows: list[dict], lexicon: dict) -> list[dict]:
    """Every kind of copy of the lines, for the kind model alone."""
    return (swapped(rows, lexicon.get("topics", []))
            + wrapped(rows, lexicon.get("openers", []), lexicon.get("closers", [])))
