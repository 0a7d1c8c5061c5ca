"""Follow-ups fired as a batch say and store exactly what firing them one by one would, and a batch asks the
database a fixed number of questions however many it fires."""
from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from sqlalchemy import event, text

from bot.app import build_app
from bot.sweep import Sweep
from handlers import followups
from handlers.messages import Inbound
from storage.uow import UnitOfWork
from tests.bulk import NOW, fill
from tests.test_reliability import Recorder

TABLES = {  # what the sweep writes, in the order it was written (ids aside)
    "outbox": "channel, chat_id, person_id, request_id, purpose, text, choices, mention_ids, status, "
              "next_attempt_at, created_at, attachments",
    "event": "request_id, at, actor_id, action, note, data",
    "followup": "request_id, kind, due_at, status, fired_at, attempts, retry_at",
    "request": "*",
}


def _say(app, who: str, words: str, *, chat: str = "3号楼业主群", private: bool = False, reachable: bool = True):
    app.handle(Inbound(channel="console", chat_id=f"@{who}" if private else chat,
                       chat_kind="private" if private else "group", sender_id=who, sender_name=who, text=words,
                       message_id=f"m{app.clock.now().timestamp()}-{who}-{words}",
                       sender_chat=f"@{who}" if reachable else None))


def _week_of_work(settings, clock):
    """Requests in every state a follow-up meets, then the clock a week and a half on, at night (quiet hours)."""
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    _say(app, "王阿姨", "#投诉 3号楼电梯坏了")  # 1: never claimed; its news is held for a summary
    _say(app, "王阿姨", "补充 1 早上还困了人")
    _say(app, "王阿姨", "补充 1 现在门也关不上")
    _say(app, "张三", "#投诉 3号楼2单元楼道灯不亮", reachable=False)  # 2: done; he has no private chat
    _say(app, "李大爷", "#投诉 5号楼电梯坏了", chat="5号楼业主群")  # 3: done; a follower has rated already
    _say(app, "赵六", "#投诉 5号楼电梯还是坏的", chat="5号楼业主群")
    _say(app, "钱七", "#投诉 8号楼路灯不亮", chat="8号楼业主群", reachable=False)  # 4: done; the group is lost
    _say(app, "王阿姨", "#投诉 3号楼3单元水管漏水")  # 5: claimed, never done
    for member, numbers in (("李建国", (2, 5)), ("张伟", (3,)), ("刘芳", (4,))):
        for number in numbers:
            _say(app, member, f"接单 {number}", private=True)
            if number != 5:
                _say(app, member, f"办结 {number} 修好了", private=True)
    _say(app, "赵六", "满意", private=True)
    clock.advance(timedelta(days=8, hours=13))
    with UnitOfWork(app.db) as uow:
        uow.chats.lost("console", "8号楼业主群", clock.now())
        uow.followups.schedule(2, "rate_reask", clock.now() - timedelta(minutes=1))  # due after its closing
        uow.session.execute(text("update identity set unreachable = true where external_id = '王强'"))
        uow.commit()
    app.db.dispose()
    return app


def _copy(settings, tmp_path, name: str):
    path = tmp_path / name
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    return settings.model_copy(update={"database_url": f"sqlite:///{path}"})


def _stored(app) -> dict[str, list]:
    with app.db.engine.connect() as connection:
        return {table: list(connection.execute(text(f"select {columns} from {table} order by id")))
                for table, columns in TABLES.items()}


def _one_by_one(app) -> int:
    """Each due follow-up in its own transaction, asking the database what it needs as it goes."""
    fired = 0
    while True:
        with UnitOfWork(app.db) as uow:
            rows = uow.followups.claim_due(app.clock.now(), 1)
            if not rows:
                return fired
            followups.fire(app._turn(uow), *rows[0])
            uow.commit()
            fired += 1


def test_a_batch_of_every_kind_says_and_stores_what_one_by_one_would(settings, clock, tmp_path):
    _week_of_work(settings, clock)
    apart, together = (build_app(_copy(settings, tmp_path, name), clock=clock, channels={"console": Recorder()})
                       for name in ("apart.db", "together.db"))
    already = len(_stored(together)["outbox"])
    # 1's claim escalation passes the resolve rung too, and cancels the resolve escalation due with it
    assert _one_by_one(apart) == 16
    assert Sweep(together.db, clock, together._turn, batch=100, hold=60)() == 16  # in one batch
    stored = _stored(together)
    assert stored == _stored(apart)
    said = [(chat, request, purpose, status, json.loads(mentions))
            for _, chat, _, request, purpose, _, _, mentions, status, *_ in stored["outbox"][already:]]
    assert said.count(("@赵书记", None, "reach", "pending", [])) == 1, "told once that 王强 cannot be reached"
    assert said.count(("", 1, None, "held", [])) == 1 and said.count(("", 5, None, "held", [])) == 1
    assert said.count(("3号楼业主群", 2, "rate", "pending", ["张三"])) == 2, "asked where he can be: his group"
    assert not [s for s in said if s[1] == 4 and s[2] == "rate"], "钱七's group is lost: nowhere to ask her"
    morning = [at for _, _, _, request, purpose, _, _, _, _, at, *_ in stored["outbox"][already:] if purpose == "rate"]
    assert set(morning) == {"2026-12-02 00:00:00.000000"}, "residents are asked when quiet hours end, 08:00"
    with together.db.engine.connect() as connection:
        assert list(connection.execute(text("select status from followup where request_id = 2 and kind = "
                                            "'rate_reask' order by id"))) == [("done",), ("done",), ("cancelled",)]
        assert list(connection.execute(text("select id, state, level from request order by id"))) == \
            [(1, "assigned", 2), (2, "closed", 0), (3, "closed", 0), (4, "closed", 0), (5, "claimed", 1)]
    for app in (apart, together):
        app.db.dispose()


def test_a_batch_asks_the_database_a_few_questions_however_many_it_fires(settings, clock):
    clock.now_is(NOW)
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    fill(app, 400)  # every kind in turn
    reads: list[str] = []

    @event.listens_for(app.db.engine, "connect")
    def _watch(connection, _record) -> None:
        connection.set_trace_callback(lambda sql: reads.append(sql) if sql.lstrip().upper().startswith("SELECT")
                                      else None)

    app.db.engine.dispose()  # connections from now on are watched
    assert Sweep(app.db, clock, app._turn, batch=200, hold=60)() == 400
    claims = sum("FROM followup" in sql and "ORDER BY followup.due_at" in sql for sql in reads)
    assert claims <= 5  # 50 first, then as many as fit (200 here), and the one that found nothing
    assert len(reads) <= 10 * claims, reads
    app.db.dispose()
