"""Feed N tagged reports (after 100 to warm up) through the dispatcher, for an instruction count that does not
depend on how busy the machine is. Run it twice under callgrind and divide the difference by N:

    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.0   .venv/bin/python bench/instructions.py 0
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.300 .venv/bin/python bench/instructions.py 300
    # instructions per filed report = (Collected of cg.300 - Collected of cg.0) / 300
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loop import ROOT, report  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.clock import SystemClock  # noqa: E402


def main() -> None:
    """File 100 warm-up reports, then n measured ones."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.load(ROOT / "config.yaml", env={}).model_copy(
            update={"database_url": f"sqlite:///{Path(folder) / 'bench.db'}"})
        app = build_app(settings, clock=SystemClock(), channels={})
        for i in range(100):  # other units than the measured reports, so none of these is linked to them
            app.handle(report(5000 + i))
        for i in range(n):
            app.handle(report(i))
        app.db.dispose()


if __name__ == "__main__":
    main()
