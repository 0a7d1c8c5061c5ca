"""Storage rules the handlers rely on: batched append-only rows are visible at once and vanish with a rollback."""
from __future__ import annotations

from datetime import timedelta

from storage.db import Database
from storage.models import Person, Request
from storage.uow import UnitOfWork
from tests.conftest import local

NOW = local(2026, 11, 23, 10, 0)


def _db(tmp_path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.migrate()
    return db


def _request(uow: UnitOfWork) -> Request:
    person = Person(name="王阿姨", language="zh-CN", created_at=NOW)
    uow.session.add(person)
    uow.session.flush()
    return uow.requests.add(Request(
        kind="complaint", category="elevator", building="3", text="3号楼电梯坏了", language="zh-CN",
        reporter_id=person.id, channel="console", source_chat="3号楼业主群", source_kind="group",
        respond_by=NOW + timedelta(hours=2), resolve_by=NOW + timedelta(days=1), created_at=NOW, updated_at=NOW))


def test_rows_queued_in_a_unit_of_work_are_read_back_in_it(tmp_path):
    db = _db(tmp_path)
    with UnitOfWork(db) as uow:
        request = _request(uow)
        uow.requests.record(request, "filed", NOW)
        uow.followups.schedule(request.id, "remind_respond", NOW + timedelta(hours=1))
        uow.outbox.add(channel="console", chat_id="3号楼业主群", text="收到", next_attempt_at=NOW, created_at=NOW)
        assert [e.action for e in uow.requests.timeline(request.id)] == ["filed"]
        assert [f.kind for f in uow.followups.pending(request.id)] == ["remind_respond"]
        assert [o.text for o in uow.outbox.claim_due("console", NOW, 10)] == ["收到"]
        uow.commit()
    with UnitOfWork(db) as uow:
        assert len(uow.requests.timeline(request.id)) == 1


def test_queued_rows_of_an_abandoned_unit_of_work_are_never_written(tmp_path):
    db = _db(tmp_path)
    with UnitOfWork(db) as uow:
        number = _request(uow).id
        uow.commit()
    with UnitOfWork(db) as uow:
        request = uow.requests.get(number)
        uow.requests.record(request, "detail", NOW, note="还在坏")
        uow.followups.schedule(number, "remind_respond", NOW)
        uow.outbox.add(channel="console", chat_id="3号楼业主群", text="收到", next_attempt_at=NOW, created_at=NOW)
    with UnitOfWork(db) as uow:
        assert uow.requests.timeline(number) == []
        assert uow.followups.pending(number) == []
        assert uow.outbox.claim_due("console", NOW, 10) == []
