"""Durations as people write them in config and in the console: 90s, 30m, 2h, 1d12h."""
from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LONGEST = timedelta(days=3660)  # ten years: anything longer is a slip of the keyboard, and could overflow the clock


def parse_duration(text: str) -> timedelta:
    """Turn '1d12h' into a timedelta; raise ValueError on anything else."""
    cleaned = str(text).strip().lower().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"not a duration: {text!r} (write e.g. 30m, 2h, 1d, 1d12h)")
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        if int(amount) > LONGEST / timedelta(**{_UNITS[unit]: 1}):
            raise ValueError(f"too long a duration: {text!r} (at most ten years)")
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if not timedelta() < total <= LONGEST:
        raise ValueError(f"a duration must be positive and at most ten years: {text!r}")
    return total


def format_duration(delta: timedelta) -> str:
    """A timedelta as config writes it: 1d12h, 30m."""
    seconds, parts = int(delta.total_seconds()), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
