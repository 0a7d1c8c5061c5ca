"""Training lines with what they are about swapped for something else, for the kind model alone.

Requests and chatter name the same things (a lift, the heating, a neighbour's dog); what tells them apart is how a
message is said: "坏了三天", "修好了", "敬请谅解". Trained only on the corpus's lines, the model also learns which
topics happened to be chatter more often in them. A copy of each line with its topics swapped for others of the
lexicon's `topics`, labelled with the same kind, takes that away. Written by hand: augmentation libraries bring a
thesaurus or a language model for what is one list and a replacement here.
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
