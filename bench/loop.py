"""Benchmark: N tagged reports through the real dispatcher into a SQLite file, beside a plain sqlite3 baseline.

Prints requests/s, p50/p99 latency and peak memory for the dispatcher; the same for a baseline that inserts one
row per message with a commit each under the same journal settings; their ratio; and the rate at which untagged
chatter is screened. Run: .venv/bin/python bench/loop.py [N]
"""
from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
import resource
from pathlib import Path

from bot.app import build_app
from bot.settings import Settings
from handlers.clock import SystemClock
from handlers.messages import Inbound

ROOT = Path(__file__).resolve().parents[1]
CHATTER = ["早上好！", "谢谢网格员小李，电梯已经修好了👍", "有没有人拼团买橙子，我这有链接", "[图片]",
           "明天上午九点社区有免费义诊，大家记得带医保卡", "收到", "今晚广场舞几点开始呀？", "哈哈哈哈 太可爱了"]


def report(i: int) -> Inbound:
    """One tagged report from a resident in the big group chat."""
    # A distinct building and unit each time, so every report is filed anew rather than linked to an earlier one.
    building, unit = 1 + i % 999, 1 + i // 999 % 9
    return Inbound(channel="console", chat_id="幸福里大群", chat_kind="group", sender_id=f"r{i % 500}",
                   sender_name=f"居民{i % 500}", text=f"#投诉 {building}号楼{unit}单元电梯又坏了，已经两天了没人修",
                   message_id=f"bench-{i}", sender_chat=f"@r{i % 500}")


def summary(name: str, latencies: list[float], elapsed: float, peak: int | None) -> float:
    """Print rate, p50, p99 and peak memory of a run; return its rate."""
    rate = len(latencies) / elapsed
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    memory = f", peak RSS {peak / 2**20:.0f} MiB" if peak is not None else ""
    print(f"{name:<12} {rate:8.0f} req/s   p50 {statistics.median(ordered) * 1000:6.2f} ms"
          f"   p99 {p99 * 1000:6.2f} ms{memory}")
    return rate


def dispatcher_run(n: int, folder: Path) -> float:
    """File n reports through the real dispatcher into a fresh SQLite file; return requests/s."""
    settings = Settings.load(ROOT / "config.yaml", env={}).model_copy(
        update={"database_url": f"sqlite:///{folder / 'bench.db'}"})
    app = build_app(settings, clock=SystemClock(), channels={})
    for i in range(50):  # warm up caches and the connection pool
        app.handle(report(n + i))
    latencies = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        app.handle(report(i))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # the whole process, Linux reports KiB
    rate = summary("dispatcher", latencies, elapsed, peak)

    screened = 0
    started = time.perf_counter()
    for i in range(n * 5):
        app.handle(Inbound(channel="console", chat_id="幸福里大群", chat_kind="group", sender_id="x",
                           sender_name="x", text=CHATTER[i % len(CHATTER)], message_id=f"chat-{i}"))
        screened += 1
    print(f"{'chatter':<12} {screened / (time.perf_counter() - started):8.0f} msg/s screened (nothing stored)")
    app.db.dispose()
    return rate


def baseline_run(n: int, folder: Path) -> float:
    """Plain sqlite3 one-row inserts under the same journal settings; return inserts/s."""
    connection = sqlite3.connect(folder / "baseline.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, chat TEXT, sender TEXT, text TEXT)")
    latencies = []
    started = time.perf_counter()
    for i in range(n):
        msg = report(i)
        t0 = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO message (chat, sender, text) VALUES (?, ?, ?)",
                           (msg.chat_id, msg.sender_id, msg.text))
        connection.execute("COMMIT")
        latencies.append(time.perf_counter() - t0)
    rate = summary("sqlite3", latencies, time.perf_counter() - started, None)
    connection.close()
    return rate


def main() -> None:
    """Run both and print the ratio."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"{n} tagged reports, each filed, routed, scheduled and acknowledged in one transaction (SQLite, WAL)")
    with tempfile.TemporaryDirectory() as folder:
        ours = dispatcher_run(n, Path(folder))
        base = baseline_run(n, Path(folder))
    print(f"ratio        {ours / base:.3f} of plain sqlite3 one-row inserts")


if __name__ == "__main__":
    main()
