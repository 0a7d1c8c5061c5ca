"""Third-party npm packages for tests, installed once with exact versions under .cache/, or a clean skip."""
from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

CACHE = Path(__file__).resolve().parents[1] / ".cache"


def node_modules(folder: str, *packages: str) -> Path:
    """The node_modules of .cache/<folder> holding exactly these `name@version` packages; skips without node/npm."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to run the npm test servers; not found on PATH")
    prefix = CACHE / folder
    missing = [p for p in packages if not (prefix / "node_modules" / p.rsplit("@", 1)[0] / "package.json").exists()]
    if missing:
        prefix.mkdir(parents=True, exist_ok=True)
        # `npm install` with exact versions rather than `npm ci`: a lockfile made on one machine names optional
        # native binaries another machine lacks.
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--save-exact", "--prefix", str(prefix), *packages],
                       check=True, capture_output=True, timeout=600)
    return prefix / "node_modules"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
