"""Honest figures for the reader: k-fold cross-validation on a labelled corpus, read as shipped (rules + model)."""
from __future__ import annotations

from collections import Counter

from handlers.intake.model import train
from handlers.intake.reader import Reader, Reading
from handlers.intake.swaps import copies

PLACE = ("building", "unit", "room")


def cross_validate(reader: Reader, rows: list[dict], k: int = 5, seed: int = 0,
                   with_model: bool = True) -> list[tuple[dict, Reading]]:
    """Each row read by the reader's rules with a model trained on the other k-1 folds (or by the rules alone)."""
    if not with_model:
        return [(row, reader.with_model(None).read(row["text"])) for row in rows]
    from sklearn.model_selection import StratifiedKFold  # only evaluation needs it, not reading

    samples = [reader.features(row["text"]) for row in rows]
    # Stratified on kind and urgency, so every fold holds its share of chatter, wishes and emergencies.
    strata = [f"{row['kind']}/{row['urgent']}" for row in rows]
    read: list[Reading | None] = [None] * len(rows)
    for learn, held in StratifiedKFold(k, shuffle=True, random_state=seed).split(samples, strata):
        # Copies of the training folds' lines only: a copy of a held-out line would be a line seen.
        extra = copies([rows[i] for i in learn], reader.lexicon)
        fold = reader.with_model(train([samples[i] for i in learn] + [reader.features(c["text"]) for c in extra],
                                       [rows[i] for i in learn] + extra))
        for i in held:
            read[i] = fold.read(rows[i]["text"])
    return list(zip(rows, read))


def figures(pairs: list[tuple[dict, Reading]]) -> dict[str, float]:
    """Accuracy of kind, category (on requests) and place; urgency recall and false alarms; and what a group
    sees: chatter offered for filing (or filed), untagged requests neither filed nor offered."""
    n = len(pairs)
    requests = [(r, o) for r, o in pairs if r["kind"] != "none"]
    chatter = [(r, o) for r, o in pairs if r["kind"] == "none"]
    urgent = [(r, o) for r, o in pairs if r["urgent"]]
    untagged = [(r, o) for r, o in requests if not o.tagged]
    out = {"messages": n, "kind": sum(r["kind"] == o.kind for r, o in pairs) / n,
           "category": sum(r["category"] == o.category for r, o in requests) / max(len(requests), 1)}
    for name in PLACE:
        out[name] = sum(r[name] == getattr(o, name) for r, o in pairs) / n
    out.update({
        "urgent recall": sum(o.urgent for _, o in urgent) / max(len(urgent), 1),
        "urgent missed": sum(not o.urgent for _, o in urgent),
        "false alarms": sum(o.urgent and not r["urgent"] for r, o in pairs),
        "chatter read as request": sum(o.kind != "none" for _, o in chatter) / max(len(chatter), 1),
        "chatter offered": sum(_acted_on(o) for _, o in chatter) / max(len(chatter), 1),
        "untagged requests not offered": sum(not _acted_on(o) for _, o in untagged) / max(len(untagged), 1),
    })
    return out


def _acted_on(reading: Reading) -> bool:
    # What handlers.dispatcher does with a message in a group: tagged or urgent, filed; confident, offered.
    return reading.kind != "none" and (reading.tagged or reading.urgent or reading.confident)


def report(pairs: list[tuple[dict, Reading]], misses: int = 40) -> str:
    """A kind confusion table, a category confusion count, and the first misses, for a failing test."""
    kinds = Counter((r["kind"], o.kind) for r, o in pairs)
    cats = Counter((r["category"], o.category) for r, o in pairs
                   if r["kind"] != "none" and r["category"] != o.category)
    lines = ["kind (labelled → read): " + ", ".join(f"{a}→{b}: {n}" for (a, b), n in sorted(kinds.items())),
             "category confusions: " + ", ".join(f"{a}→{b}: {n}" for (a, b), n in cats.most_common())]
    wrong = [(r, o) for r, o in pairs if r["kind"] != o.kind or r["urgent"] != o.urgent
             or (r["kind"] != "none" and r["category"] != o.category)]
    lines += [f"  {r['text']} | {r['kind']}/{r['category']}/{r['urgent']} → {o.kind}/{o.category}/{o.urgent}"
              for r, o in wrong[:misses]]
    return "\n".join(lines)
