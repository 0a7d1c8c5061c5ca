"""Benchmark: the intake reader alone, over the dev corpus, on one core; prints messages/s and accuracy.

Run: .venv/bin/python bench/reader.py [ROUNDS]
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from handlers.intake import Reader

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "intake-dev.jsonl"
FIELDS = ("kind", "category", "building", "unit", "room", "urgent")


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rows = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]
    reader = Reader.from_file()
    texts = [row["text"] for row in rows]
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            reader.read(text)
    elapsed = time.perf_counter() - started
    print(f"reader: {rounds * len(texts) / elapsed:,.0f} messages/s ({rounds} rounds of {len(texts)} messages)")
    got = [reader.read(text).as_record() for text in texts]
    requests = [(r, o) for r, o in zip(rows, got) if r["kind"] != "none"]
    print(f"kind {sum(r['kind'] == o['kind'] for r, o in zip(rows, got)) / len(rows):.1%}, "
          f"category on requests {sum(r['category'] == o['category'] for r, o in requests) / len(requests):.1%}, "
          + ", ".join(f"{f} {sum(r[f] == o[f] for r, o in zip(rows, got)) / len(rows):.1%}"
                      for f in ("building", "unit", "room")))
    print(f"urgent missed {sum(r['urgent'] and not o['urgent'] for r, o in zip(rows, got))}, "
          f"false alarms {sum(o['urgent'] and not r['urgent'] for r, o in zip(rows, got))}, "
          f"none read as a request {sum(r['kind'] == 'none' and o['kind'] != 'none' for r, o in zip(rows, got))}")


if __name__ == "__main__":
    main()
