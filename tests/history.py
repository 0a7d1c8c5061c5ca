"""A community's history, bulk-inserted: N requests in realistic proportions, for the scale tests and bench/scale.py.

Filing a million requests through the handlers would take hours, so rows go in straight through the driver in one
transaction, into a database migrated to head whose indexes are dropped for the load and built again after it:
people, requests and followers from Python (executemany on SQLite, COPY on PostgreSQL, explicit ids), and what each
request left behind (its timeline, rating, follow-ups, outbox rows, ledger entries) by INSERT … SELECT from the
requests, in the database itself. Then ANALYZE (VACUUM ANALYZE on PostgreSQL), as a long-running database has
statistics. Proportions: 90% closed (claimed, done, rated), 5% open within their deadlines,
5% overdue (half never claimed); 5% have a second reporter (a follower). With `extras`, each request also has the
rows the bot leaves behind: 3 follow-ups (finished, or pending for open ones), 3 sent outbox messages and 4 entries
of the message ledger. Requests are spread at `per_day` a day up to `now`, so history grows older, not denser.
"""
from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from handlers.community import Community
from handlers.messages import Inbound
from storage.db import Database, among
from storage.models import Follower, FollowUp, Identity, Outbox, Person, Request
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
    tables: dict[type, list[dict]] = {t: [] for t in (Person, Identity, Request, Follower)}
    writer = _SQLite(db) if db.is_sqlite else _Postgres(db)
    start = now - timedelta(days=n / per_day)
    for pid in residents:
        tables[Person].append(_row(Person, id=pid, name=f"居民{pid}", created_at=start))
        tables[Identity].append(_row(Identity, person_id=pid, channel="console", external_id=f"r{pid}",
                                     private_chat=f"r{pid}", unreachable=False, last_seen_at=start))
    step, hour = (now - start) / (n + 1), timedelta(hours=1)
    for number in range(1, n + 1):
        created = start + step * number
        grid, member, buildings = rng.choice(grids)
        fate = rng.random()
        reporter = rng.choice(residents)
        req: dict[str, Any] = dict(id=number, category=rng.choice(categories), building=rng.choice(buildings),
                                   unit=str(rng.randint(1, 4)), reporter_id=reporter,
                                   source_chat=f"b{rng.choice(buildings)}", grid=grid, assignee_id=member,
                                   created_at=created, updated_at=created, respond_by=created + 2 * hour,
                                   resolve_by=created + 48 * hour)
        if fate < 0.90:  # closed: claimed, done, rated
            done = created + 20 * hour
            req.update(state="closed", responded_at=created + hour / 2, done_at=done, closed_at=done + 3 * hour,
                       rating=rng.choice((5, 5, 5, 5, 5, 4, 3, 3, 2, 1)), rating_round=1)
        elif fate < 0.95:  # open, within its deadlines
            req.update(state="claimed", responded_at=created + hour / 3, respond_by=now + hour,
                       resolve_by=now + rng.randint(2, 48) * hour)
        else:  # overdue: half never claimed, half claimed and not done
            unclaimed = rng.random() < 0.5
            req.update(state="assigned" if unclaimed else "claimed", level=1,
                       responded_at=None if unclaimed else created + hour * 2 / 3)
        tables[Request].append(_row(Request, **{**_REQUEST, **req}))
        if rng.random() < 0.05 and (follower := rng.choice(residents)) != reporter:
            tables[Follower].append(_row(Follower, request_id=number, person_id=follower, created_at=created + hour))
        if number % BATCH == 0:
            writer.write(tables)
    writer.write(tables)
    # What each request left behind follows from its own columns: written by the database itself, in bulk.
    writer.execute(DERIVED + (_extras() if extras else []), now=_sqlite[datetime](now) if db.is_sqlite else now)
    writer.finish()


_REQUEST = dict(kind="complaint", urgent=False, text="楼道灯不亮了", evidence=[], language="zh-CN", channel="console",
                source_kind="group", state="new", level=0, rating_round=0)
_EVENT = "INSERT INTO event (request_id, at, actor_id, action, data) "
DERIVED = [
    _EVENT + "SELECT id, created_at, reporter_id, 'filed', '{}' FROM request",
    _EVENT + "SELECT id, created_at, NULL, 'assigned', '{}' FROM request",
    _EVENT + "SELECT id, responded_at, assignee_id, 'claimed', '{}' FROM request WHERE responded_at IS NOT NULL",
    _EVENT + "SELECT id, done_at, assignee_id, 'done', '{}' FROM request WHERE done_at IS NOT NULL",
    _EVENT + "SELECT id, closed_at, reporter_id, 'rated', '{}' FROM request WHERE state = 'closed'",
    _EVENT + "SELECT id, closed_at, NULL, 'closed', '{}' FROM request WHERE state = 'closed'",
    _EVENT + "SELECT id, respond_by, NULL, 'escalated', '{}' FROM request WHERE level = 1",
    _EVENT + "SELECT request_id, created_at, person_id, 'followed', '{}' FROM follower",
    "INSERT INTO rating (request_id, person_id, score, round, at) "
    "SELECT id, reporter_id, rating, 1, closed_at FROM request WHERE state = 'closed'",
]
_FOLLOWUP = ("INSERT INTO followup ({columns}) SELECT id, '{kind}', {due}, "
             "CASE WHEN state = 'closed' OR {due} <= :now THEN 'done' ELSE 'pending' END, "
             "CASE WHEN state = 'closed' OR {due} <= :now THEN {due} END{zero} FROM request")
_OUTBOX = ("INSERT INTO outbox (channel, chat_id, person_id, request_id, text, choices, mention_ids, status, "
           "attempts, next_attempt_at, created_at, sent_at, platform_message_id) SELECT 'console', {chat}, {person}, "
           "id, '诉求#' || id || ' 的消息', '[]', '[]', 'sent', 1, created_at, created_at, created_at, "
           "'o' || id || '-{k}' FROM request")


def _extras() -> list[str]:
    """Follow-ups (finished, or pending for open requests), sent outbox rows, ledger entries."""
    columns = "request_id, kind, due_at, status, fired_at"
    counted = "attempts" in FollowUp.__table__.c  # a follow-up's failed attempts, where the schema counts them
    return [*(_FOLLOWUP.format(columns=columns + (", attempts" if counted else ""), kind=kind, due=due,
                               zero=", 0" if counted else "")
              for kind, due in (("remind_respond", "created_at"), ("escalate_respond", "respond_by"),
                                ("rate_reask", "resolve_by"))),
            *_LEFT_BEHIND]


_LEFT_BEHIND = [
    *(_OUTBOX.format(chat=chat, person=person, k=k)
      for k, (chat, person) in enumerate((("source_chat", "NULL"), ("'s' || assignee_id", "assignee_id"),
                                          ("'r' || reporter_id", "reporter_id")))),
    *(f"INSERT INTO processedmessage (channel, message_id, at) SELECT 'console', 'm' || id || '-{k}', created_at "
      "FROM request" for k in range(4)),
]


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

    def execute(self, statements: list[str], **params) -> None:
        for sql in statements:
            self.cursor.execute(sql, params if ":" in sql else ())

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

    def execute(self, statements: list[str], **params) -> None:
        for sql in statements:
            self.connection.execute(sql.replace(":now", "%(now)s"), params if ":now" in sql else None)

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
            cursor.execute("VACUUM ANALYZE")  # statistics and the visibility map, as autovacuum would have them
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

