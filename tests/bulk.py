"""Bulk-filled databases for tests and benchmarks of the background jobs: requests whose follow-ups are due at once,
and history months old for pruning. Core executemany inserts, not the handlers: a benchmark needs 100,000 rows in
seconds; what the rows hold is what the handlers would have written.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select, text
from sqlmodel import Session

from bot.app import App
from storage.models import Event, FollowUp, Identity, Outbox, Person, ProcessedMessage, Request
from tests.conftest import local

NOW = local(2026, 11, 23, 10, 0)
KINDS = (("escalate_respond", "assigned"), ("escalate_resolve", "claimed"), ("rate_reask", "done"),
         ("close_unrated", "done"))
RESIDENTS = 1000


def fill(app: App, n: int, *, old: int = 0) -> None:
    """n requests, each with one follow-up due now (of each kind in turn); `old` more closed ~4 months ago with
    their history (sent messages, fired follow-ups, events, ledger rows), for pruning to find."""
    staff = {p.staff_id: p.id for p in _all(app, Person) if p.staff_id}
    with app.db.engine.begin() as connection:
        first = connection.execute(select(func.coalesce(func.max(Person.id), 0))).scalar() + 1
        connection.execute(insert(Person), [dict(id=first + i, name=f"居民{i}", role="resident", language="zh-CN",
                                                 language_chosen=False, created_at=NOW) for i in range(RESIDENTS)])
        connection.execute(insert(Identity), [dict(person_id=first + i, channel="console", external_id=f"居民{i}",
                                                   private_chat=f"@居民{i}", unreachable=False)
                                              for i in range(RESIDENTS)])
        members = [staff["li_jianguo"], staff["zhang_wei"], staff["liu_fang"]]
        long_ago = NOW - timedelta(days=120)
        for start in range(0, n + old, 10_000):
            rows, followups, history = [], [], {"outbox": [], "event": [], "ledger": []}
            for i in range(start, min(start + 10_000, n + old)):
                current = i < n
                kind, state = KINDS[i % len(KINDS)] if current else ("close_unrated", "closed")
                at = NOW - timedelta(days=3) if current else long_ago
                building = 1 + i % 9
                rows.append(dict(id=i + 1, kind="complaint", category="elevator", urgent=False, building=str(building),
                                 text=f"#投诉 {building}号楼电梯坏了", evidence=[], language="zh-CN",
                                 reporter_id=first + i % RESIDENTS, channel="console", source_chat=f"{building}号楼业主群",
                                 source_kind="group", grid="east", assignee_id=members[i % 3], state=state, level=0,
                                 respond_by=at + timedelta(hours=1), resolve_by=at + timedelta(days=1),
                                 done_at=at + timedelta(hours=5) if state in ("done", "closed") else None,
                                 rating_round=1 if state in ("done", "closed") else 0,
                                 responded_at=None if state == "assigned" else at + timedelta(minutes=30),
                                 created_at=at, updated_at=at))
                followups.append(dict(request_id=i + 1, kind=kind, due_at=NOW - timedelta(minutes=i % 60) if current
                                      else long_ago + timedelta(days=7), status="pending" if current else "done",
                                      fired_at=None if current else long_ago + timedelta(days=7), attempts=0))
                if not current:
                    for k in range(4):
                        history["outbox"].append(dict(channel="console", chat_id=f"@居民{i % RESIDENTS}",
                                                      person_id=first + i % RESIDENTS, request_id=i + 1, text="收到" * 20,
                                                      choices=[], mention_ids=[], status="sent", attempts=1,
                                                      next_attempt_at=long_ago, created_at=long_ago, sent_at=long_ago))
                        history["event"].append(dict(request_id=i + 1, at=long_ago, action="filed", data={}))
                        history["ledger"].append(dict(channel="console", message_id=f"old-{i}-{k}", at=long_ago))
            connection.execute(insert(Request), rows)
            connection.execute(insert(FollowUp), followups)
            for table, model in (("outbox", Outbox), ("event", Event), ("ledger", ProcessedMessage)):
                if history[table]:
                    connection.execute(insert(model), history[table])
        if app.db.engine.dialect.name == "postgresql":  # ids given here: the sequences go on after them
            for table in ("person", "request"):
                connection.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
        # Statistics, as a database in service has them: on PostgreSQL without them the planner crossed the whole
        # pending-rows index to cancel one request's follow-ups (5 ms each, 35 of the 68 s 100k follow-ups took).
        connection.execute(text("ANALYZE"))


def _all(app: App, model) -> list:
    with Session(app.db.engine) as session:
        return list(session.exec(select(model)).scalars())
