"""A community's history, bulk-inserted: N requests in realistic proportions, for the scale tests and bench/scale.py.

Filing a million requests through the handlers would take hours, so rows go in straight through the driver in one
transaction: executemany on SQLite, COPY on PostgreSQL, with explicit ids, on a database migrated to head (so every
index is there, as in production). Proportions: 90% closed (claimed, done, rated), 5% open within their deadlines,
5% overdue (half never claimed); 5% have a second reporter (a follower). With `extras`, each request also has the
rows the bot leaves behind: 3 follow-ups (finished, or pending for open ones), 3 sent outbox messages and 4 entries
of the message ledger. Requests are spread at `per_day` a day up to `now`, so history grows older, not denser.
"""
from __future__ import annotations

import json
import uuid
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from handlers.community import Community
from handlers.messages import Inbound
from storage.db import Database, among
from storage.models import (Event, Follower, FollowUp, Identity, Outbox, Person, ProcessedMessage, Rating,
                            Request)
from storage.uow import UnitOfWork

BATCH = 50_000  # rows per executemany / per COPY flush


def build(db: Database, community: Community, n: int, now: datetime, *, per_day: int = 1000,
          extras: bool = True, seed: int = 15) -> None:
    """Insert n requests of history (and their people, events, ratings, followers; with extras, follow-ups,
    outbox rows and ledger entries) into a migrated database that holds only its staff."""
    # Naive UTC throughout: what SQLite stores, and what PostgreSQL reads in a session set to UTC.
    rng, now = random.Random(seed), now.astimezone(UTC).replace(tzinfo=None)
    with db.engine.connect() as connection:
        staff = dict(connection.execute(text("SELECT staff_id, id FROM person WHERE staff_id IS NOT NULL")).all())
        first_id = connection.execute(text("SELECT coalesce(max(id), 0) FROM person")).scalar() + 1
    residents = list(range(first_id, first_id + max(50, n // 5)))
    grids = [(g.id, staff[g.member], [str(b) for b in g.buildings]) for g in community.grids]
    categories = list(community.categories)
    tables: dict[type, list[tuple]] = {t: [] for t in (Person, Identity, Request, Event, Rating, Follower, FollowUp,
                                                         Outbox, ProcessedMessage)}
    writer = _SQLite(db) if db.is_sqlite else _Postgres(db)
    start = now - timedelta(days=n / per_day)
    for pid in residents:
        tables[Person].append(_row(Person, id=pid, name=f"居民{pid}", created_at=start))
        tables[Identity].append(_row(Identity, person_id=pid, channel="console", external_id=f"r{pid}",
                                     private_chat=f"r{pid}", unreachable=False, last_seen_at=start))
    ids = {"event": 0, "rating": 0, "followup": 0, "outbox": 0}

    def next_id(name: str) -> int:
        ids[name] += 1
        return ids[name]

    for number in range(1, n + 1):
        created = start + (now - start) * (number / (n + 1))
        grid, member, buildings = rng.choice(grids)
        fate = rng.random()
        reporter = rng.choice(residents)
        req: dict[str, Any] = dict(id=number, kind="complaint", category=rng.choice(categories), urgent=False,
                                   building=rng.choice(buildings), unit=str(rng.randint(1, 4)), text="楼道灯不亮了",
                                   evidence=[], language="zh-CN", reporter_id=reporter, channel="console",
                                   source_chat=f"b{rng.choice(buildings)}", source_kind="group", grid=grid,
                                   assignee_id=member, level=0, rating_round=0, created_at=created,
                                   updated_at=created, respond_by=created + timedelta(hours=2),
                                   resolve_by=created + timedelta(days=2))
        events = [("filed", created, reporter), ("assigned", created, None)]
        if fate < 0.90:  # closed: claimed, done, rated
            score = rng.choice((5, 5, 5, 5, 5, 4, 3, 3, 2, 1))
            claimed, done = created + timedelta(minutes=30), created + timedelta(hours=20)
            req.update(state="closed", responded_at=claimed, done_at=done, closed_at=done + timedelta(hours=3),
                       rating=score, rating_round=1)
            events += [("claimed", claimed, member), ("done", done, member), ("rated", done + timedelta(hours=3),
                                                                               reporter),
                       ("closed", done + timedelta(hours=3), None)]
            tables[Rating].append(_row(Rating, id=next_id("rating"), request_id=number, person_id=reporter,
                                       score=score, round=1, at=done + timedelta(hours=3)))
        elif fate < 0.95:  # open, within its deadlines
            req.update(state="claimed", responded_at=created + timedelta(minutes=20),
                       respond_by=now + timedelta(hours=1), resolve_by=now + timedelta(hours=rng.randint(2, 48)))
            events.append(("claimed", created + timedelta(minutes=20), member))
        else:  # overdue: half never claimed, half claimed and not done
            unclaimed = rng.random() < 0.5
            req.update(state="assigned" if unclaimed else "claimed", level=1,
                       responded_at=None if unclaimed else created + timedelta(minutes=40))
            events.append(("escalated", req["respond_by"], None))
        tables[Request].append(_row(Request, **req))
        for action, at, actor in events:
            tables[Event].append(_row(Event, id=next_id("event"), request_id=number, at=at, actor_id=actor,
                                      action=action, data={}))
        if rng.random() < 0.05:
            follower = rng.choice(residents)
            if follower != reporter:
                tables[Follower].append(_row(Follower, request_id=number, person_id=follower,
                                             created_at=created + timedelta(hours=1)))
                tables[Event].append(_row(Event, id=next_id("event"), request_id=number,
                                          at=created + timedelta(hours=1), actor_id=follower, action="followed",
                                          data={}))
        if extras:
            finished = req["state"] == "closed"
            for kind, due in (("remind_respond", created + timedelta(hours=1)),
                              ("escalate_respond", req["respond_by"]), ("rate_reask", created + timedelta(days=2))):
                pending = not finished and due > now
                tables[FollowUp].append(_row(FollowUp, id=next_id("followup"), request_id=number, kind=kind,
                                             due_at=due, status="pending" if pending else "done",
                                             fired_at=None if pending else due))
            for k, (chat, person) in enumerate(((req["source_chat"], None), (f"s{member}", member),
                                                (f"r{reporter}", reporter))):
                tables[Outbox].append(_row(Outbox, id=next_id("outbox"), channel="console", chat_id=chat,
                                           person_id=person, request_id=number, text="诉求#%d 的消息" % number,
                                           choices=[], mention_ids=[], status="sent", attempts=1,
                                           next_attempt_at=created, created_at=created, sent_at=created,
                                           platform_message_id=f"o{number}-{k}"))
            for k in range(4):
                tables[ProcessedMessage].append(_row(ProcessedMessage, channel="console",
                                                     message_id=f"m{number}-{k}", at=created))
        if number % BATCH == 0:
            writer.write(tables)
    writer.write(tables)
    writer.finish()


_TEMPLATES: dict[type, dict[str, Any]] = {}


def _row(model, **values) -> dict[str, Any]:
    """Every column of the table, in its order: the value given, else the column's default (an id left out)."""
    template = _TEMPLATES.get(model)
    if template is None:
        template = _TEMPLATES[model] = {
            c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
            for c in model.__table__.columns if not (c.primary_key and c.name == "id")}
    row = dict(template)
    row.update(values)
    return row


class _SQLite:
    """executemany on the driver's connection, in one transaction; the indexes are dropped for the load and built
    again after it (one sort each, instead of a random insert per row)."""

    def __init__(self, db: Database) -> None:
        self.raw = db.engine.raw_connection()
        self.cursor = self.raw.driver_connection.cursor()
        self.cursor.execute("PRAGMA synchronous=OFF")
        self.cursor.execute("PRAGMA cache_size=-262144")  # 256 MB
        self.cursor.execute("BEGIN")
        self.indexes = self.cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
        for name, _ in self.indexes:
            self.cursor.execute(f'DROP INDEX "{name}"')

    def write(self, tables: dict[type, list[dict]]) -> None:
        for model, rows in tables.items():
            if rows:
                columns = list(rows[0])
                sql = (f'INSERT INTO "{model.__tablename__}" ({", ".join(columns)}) '
                       f'VALUES ({", ".join("?" * len(columns))})')
                self.cursor.executemany(sql, [[_sqlite.get(type(v), _same)(v) for v in r.values()] for r in rows])
                rows.clear()

    def finish(self) -> None:
        for _, sql in self.indexes:
            self.cursor.execute(sql)
        self.cursor.execute("COMMIT")
        self.cursor.execute("PRAGMA synchronous=NORMAL")
        self.cursor.execute("ANALYZE")
        self.cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all in the main file: it can be copied alone
        self.raw.close()


def _same(value):
    return value


# As SQLAlchemy stores them on SQLite: naive UTC with microseconds (every datetime here is in UTC), JSON as text.
_sqlite = {datetime: lambda v: v.isoformat(" ", "microseconds"), list: lambda v: json.dumps(v) if v else "[]",
           dict: lambda v: json.dumps(v) if v else "{}"}


class _Postgres:
    """COPY on the driver's connection, in one transaction; indexes other than keys are dropped for the load and
    built again after it."""

    def __init__(self, db: Database) -> None:
        self.raw = db.engine.raw_connection()
        self.connection = self.raw.driver_connection
        self.connection.autocommit = False
        self.connection.execute("SET TIME ZONE 'UTC'")
        self.connection.execute("SET maintenance_work_mem = '256MB'")
        self.indexes = self.connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)").fetchall()
        for name, _ in self.indexes:
            self.connection.execute(f'DROP INDEX "{name}"')

    def write(self, tables: dict[type, list[dict]]) -> None:
        with self.connection.cursor() as cursor:
            for model, rows in tables.items():
                if rows:
                    columns = list(rows[0])
                    with cursor.copy(f'COPY "{model.__tablename__}" ({", ".join(columns)}) FROM STDIN') as copy:
                        for r in rows:
                            copy.write_row([json.dumps(v) if type(v) in (list, dict) else v for v in r.values()])
                    rows.clear()

    def finish(self) -> None:
        with self.connection.cursor() as cursor:
            for _, sql in self.indexes:
                cursor.execute(sql)
            for table in ("person", "identity", "request", "event", "rating", "followup", "outbox"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))")
        self.connection.commit()
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.raw.close()


def ask(app, sender: str, text: str) -> str:
    """Send a private console message as `sender` (a staff name, or r<person id> for a resident) and return the
    bot's answer, as queued in the outbox."""
    app.handle(Inbound(channel="console", chat_id=sender, chat_kind="private", sender_id=sender, sender_name=sender,
                       text=text, message_id=f"ask-{uuid.uuid4().hex}"))
    with UnitOfWork(app.db, read_only=True) as uow:  # the chat's queue (a partial index), not all that was sent
        return uow.session.exec(select(Outbox.text).where(Outbox.channel == "console", Outbox.chat_id == sender,
                                                          among(col(Outbox.status), ("pending", "sending")))
                                .order_by(col(Outbox.id).desc())).first()

