"""Fuzzing the real dispatcher: random text, commands with random arguments, control and surrogate characters and
10,000-character messages from every role. No exception escapes, every command is answered, nothing the
database could take is spooled, and nothing ends in the generic apology."""
from __future__ import annotations

from bot.app import build_app
from tests.fuzzing import fuzz
from tests.test_reliability import Recorder
from tests.test_robustness import on_each_backend  # noqa: F401  (the fixture: SQLite, and PostgreSQL if it answers)

EXAMPLES = 300  # per backend: a few seconds each; bench/chaos.py runs 50,000


def test_no_message_breaks_the_dispatcher(on_each_backend, clock):  # noqa: F811
    app = build_app(on_each_backend, clock=clock, channels={"console": Recorder()})
    try:
        tally = fuzz(app, EXAMPLES, derandomize=True)
    finally:
        app.db.dispose()
    assert tally.messages >= EXAMPLES
    assert (tally.exceptions, tally.unanswered, tally.spooled, tally.apologies) == ([], [], [], [])
