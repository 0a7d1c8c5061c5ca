"""Benchmark: the intake reader on one core: messages/s, cross-validated figures on our corpus, dev-set figures.

Sets: handlers/intake/corpus/intake.jsonl (cross-validated: the model is trained on k-1 folds and reads the
held-out fold, rules + model as shipped; and the rules alone), the shared dev corpus and tests/intake_own.jsonl
(whose `chat` field gives the chat a message was sent in, and so its building), which the model never trains on.
A fresh batch (a .jsonl file in the corpus format, not yet added) is read by the reader trained on the corpus as it
is: the honest figure for lines nobody tuned for (corpus/README.md).
Run: .venv/bin/python bench/reader.py [ROUNDS] [K] [FRESH.jsonl]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from bot.settings import Settings
from handlers.intake import Reader
from handlers.intake.crossval import cross_validate, figures
from handlers.intake.model import CORPUS, load_rows
from handlers.intake.reader import OFFER_MARGIN, REQUEST_MARGIN

ROOT = Path(__file__).resolve().parents[1]
SETS = {"dev corpus": ROOT.parent / "shared" / "corpus" / "intake-dev.jsonl", "own": ROOT / "tests" / "intake_own.jsonl"}
COLUMNS = ("kind", "category", "building", "unit", "room", "urgent recall", "urgent missed", "false alarms",
           "chatter read as request", "chatter offered", "untagged requests not offered")


def accuracy(name: str, rows: list[dict], reader: Reader, building_of_chat) -> None:
    """Print the figures the intake issue asks for."""
    got = [reader.read(row["text"], chat_building=building_of_chat(row.get("chat"))).as_record() for row in rows]
    pairs = list(zip(rows, got))
    requests = [(r, o) for r, o in pairs if r["kind"] != "none"]
    print(f"{name} ({len(rows)} messages): kind {sum(r['kind'] == o['kind'] for r, o in pairs) / len(rows):.1%}, "
          f"category on requests {sum(r['category'] == o['category'] for r, o in requests) / len(requests):.1%}, "
          + ", ".join(f"{f} {sum(r[f] == o[f] for r, o in pairs) / len(rows):.1%}" for f in ("building", "unit", "room")))
    print(f"  urgent missed {sum(r['urgent'] and not o['urgent'] for r, o in pairs)}, "
          f"false alarms {sum(o['urgent'] and not r['urgent'] for r, o in pairs)}, "
          f"none read as a request {sum(r['kind'] == 'none' and o['kind'] != 'none' for r, o in pairs)}")


def table(rows: list[dict], reader: Reader, k: int) -> None:
    """The cross-validated figures, with the model and with the rules alone, one line each."""
    print(f"{k}-fold cross-validation on {CORPUS.relative_to(ROOT)} ({len(rows)} messages; "
          f"{sum(r['kind'] == 'none' for r in rows)} chatter, {sum(r['urgent'] for r in rows)} urgent):")
    print(f"  (untagged text read as a request from a model margin of {REQUEST_MARGIN}, offered from {OFFER_MARGIN};"
          " issue 13's bar: kind ≥93%, category ≥88%, recall 100% with ≤2 false alarms, chatter read as request"
          " ≤1%, chatter offered ≤1%, untagged requests not offered ≤8%)")
    print(f"  {'':14}" + " | ".join(COLUMNS))
    for label, with_model in (("rules + model", True), ("rules alone", False)):
        row(label, figures(cross_validate(reader, rows, k=k, with_model=with_model)))


def row(label: str, found: dict[str, float]) -> None:
    """One line of the figures table."""
    print(f"  {label:14}" + " | ".join(
        (f"{found[c]:.0f}" if c in ("urgent missed", "false alarms") else f"{found[c]:.1%}").rjust(len(c))
        for c in COLUMNS))


def fresh(path: Path, reader: Reader) -> None:
    """A batch not yet in the corpus, read by the reader trained on the corpus as it is."""
    rows = load_rows(path)
    print(f"fresh batch {path.name} ({len(rows)} messages; {sum(r['kind'] == 'none' for r in rows)} chatter), "
          "read by the reader trained on the corpus:")
    print(f"  {'':14}" + " | ".join(COLUMNS))
    for label, used in (("rules + model", reader), ("rules alone", reader.with_model(None))):
        row(label, figures([(r, used.read(r["text"])) for r in rows]))


def main() -> None:
    """Time the reader over every labelled message, then print cross-validated and dev-set figures."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if len(sys.argv) > 3:
        fresh(Path(sys.argv[3]), Reader.from_file())
        return
    started = time.perf_counter()
    reader = Reader.from_file()
    print(f"start-up (import scikit-learn, train on the corpus): {time.perf_counter() - started:.2f} s")
    community = Settings.load(ROOT / "config.yaml", env={}).community
    labelled = {name: load_rows(path) for name, path in SETS.items() if path.exists()}
    rows = load_rows(CORPUS)
    texts = [row["text"] for row in rows] + [row["text"] for rows_ in labelled.values() for row in rows_]
    for label, timed in (("rules + model", reader), ("rules alone", reader.with_model(None))):
        started = time.perf_counter()
        for _ in range(rounds):
            for text in texts:
                timed.read(text)
        elapsed = time.perf_counter() - started
        print(f"reader, {label}: {rounds * len(texts) / elapsed:,.0f} messages/s ({rounds} rounds of {len(texts)})")
    table(rows, Reader.from_file(corpus=None), k)
    for label, used in (("rules + model", reader), ("rules alone", reader.with_model(None))):
        print(f"-- {label}")
        for name, rows_ in labelled.items():
            accuracy(name, rows_, used, community.building_of_chat)


if __name__ == "__main__":
    main()
