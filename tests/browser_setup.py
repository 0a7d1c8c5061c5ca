"""Makes sure the browser tests have a browser: Debian's chromium (and CJK fonts), installed with apt-get when this
runs as root and it is missing. Playwright cannot download its own browsers here. Never fails: without a
browser the browser tests skip with the reason."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")


def main() -> int:
    """Install chromium and fonts-noto-cjk where they are missing and we may; say what happened."""
    if CHROMIUM.exists():
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print("browser_setup: no /usr/bin/chromium, and no apt-get as root: the browser tests will skip",
              file=sys.stderr)
        return 0
    quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"], check=False, **quiet)
    if done.returncode != 0:
        print("browser_setup: apt-get could not install chromium: the browser tests will skip", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
