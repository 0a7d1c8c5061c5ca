"""Benchmark: the intake reader alone, on one core; prints messages/s and accuracy on each labelled set.

Sets: the shared dev corpus and our own messages in tests/intake_own.jsonl (whose `chat` field, where present,
gives the chat the message was sent in, and so its building). Run: .venv/bin/python bench/reader.py [ROUNDS]
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bot.settings import Settings
from handlers.intake import Reader

ROOT = Path(__file__).resolve().parents[1]
SETS = {"dev corpus": ROOT.parent / "shared" / "corpus" / "intake-dev.jsonl", "own": ROOT / "tests" / "intake_own.jsonl"}


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


def main() -> None:
    """Time the reader over every labelled message and print its accuracy."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    reader = Reader.from_file()
    community = Settings.load(ROOT / "config.yaml", env={}).community
    labelled = {name: [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
                for name, path in SETS.items() if path.exists()}
    texts = [row["text"] for rows in labelled.values() for row in rows]
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            reader.read(text)
    elapsed = time.perf_counter() - started
    print(f"reader: {rounds * len(texts) / elapsed:,.0f} messages/s ({rounds} rounds of {len(texts)} messages)")
    for name, rows in labelled.items():
        accuracy(name, rows, reader, community.building_of_chat)


if __name__ == "__main__":
    main()
