"""The reader against the labelled corpus in ../shared/corpus: the accuracy the intake issue asks for."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from handlers.intake import Reader
from tests.conftest import ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "intake-dev.jsonl"
OWN = Path(__file__).with_name("intake_own.jsonl")
FIELDS = ("kind", "category", "building", "unit", "room", "urgent")


def load(path):
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def check(rows: list[dict], reader: Reader, building_of_chat=lambda name: None) -> None:
    """The accuracy the intake issue asks for, with a confusion table and every miss on failure."""
    got = [reader.read(row["text"], chat_building=building_of_chat(row.get("chat"))).as_record() for row in rows]
    misses = [(row, out) for row, out in zip(rows, got) if any(row[f] != out[f] for f in FIELDS)]
    table = Counter((row["kind"], out["kind"]) for row, out in zip(rows, got))
    report = "kind confusion (labelled → read): " + ", ".join(f"{a}→{b}: {n}" for (a, b), n in sorted(table.items()))
    report += "".join(f"\n  {row['text']} | " + " ".join(f"{f}:{row[f]}→{out[f]}" for f in FIELDS if row[f] != out[f])
                      for row, out in misses)

    n = len(rows)
    requests = [(row, out) for row, out in zip(rows, got) if row["kind"] != "none"]
    assert sum(r["kind"] == o["kind"] for r, o in zip(rows, got)) / n >= 0.95, report
    assert sum(r["kind"] == "none" and o["kind"] != "none" for r, o in zip(rows, got)) <= 1, report
    assert sum(r["category"] == o["category"] for r, o in requests) / len(requests) >= 0.90, report
    for field in ("building", "unit", "room"):
        assert sum(r[field] == o[field] for r, o in zip(rows, got)) / n >= 0.95, report
    assert all(o["urgent"] for r, o in zip(rows, got) if r["urgent"]), report
    assert sum(o["urgent"] and not r["urgent"] for r, o in zip(rows, got)) <= 2, report


@pytest.mark.skipif(not CORPUS.exists(), reason=f"corpus not found at {CORPUS}")
def test_reader_accuracy_on_the_dev_corpus():
    check(load(CORPUS), Reader.from_file())


def test_reader_accuracy_on_our_own_messages(settings):
    """Forms the dev corpus has few of: traditional, English, financial numerals, 3#楼, 502室, the chat's building."""
    rows = load(OWN)
    assert len(rows) >= 100
    check(rows, Reader.from_file(), settings.community.building_of_chat)


def test_read_command_prints_corpus_fields(tmp_path):
    from typer.testing import CliRunner

    from bot.cli import cli
    lines = "#報修 9號樓1單元電梯壞了\n" + json.dumps({"text": "楼道灯不亮了，好几天了", "chat": "8号楼业主群"}) + "\n{bad\n"
    result = CliRunner().invoke(cli, ["read", "--config", str(ROOT / "config.yaml")], input=lines)
    out = [json.loads(line) for line in result.output.splitlines()]
    assert {k: out[0][k] for k in FIELDS} == {"kind": "complaint", "category": "elevator", "building": "9",
                                               "unit": "1", "room": None, "urgent": False}
    assert "電梯" not in out[0]["evidence"] and "电梯" in out[0]["evidence"]
    assert out[1]["building"] == "8" and out[1]["category"] == "electricity"
    assert out[2]["error"] == "not a JSON object with a text field"
