"""Exactly once where it matters: redeliveries, crashes between commit and send, failing platforms, the digest."""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from datetime import timedelta

import yaml
from sqlmodel import select

from bot.app import build_app
from bot.channels.base import Rejected, RetryLater, Unreachable
from bot.scheduler import make_scheduler
from bot.settings import Settings
from handlers.messages import Inbound
from storage.models import Offer, Outbox, Person, ProcessedMessage, Request
from storage.uow import UnitOfWork
from tests.conftest import ROOT, local


class Recorder:
    """An in-memory channel: records what it is asked to send and fails as told."""

    name = "console"
    overall_gap = 0.0

    def __init__(self, failures=()):
        self.sent, self.failures = [], list(failures)

    def private_chat_for(self, external_id):
        return f"@{external_id}"

    def pacing(self, chat_id):
        return 0.0

    async def send(self, message):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"p{len(self.sent)}"


def group(text, message_id, sender="王阿姨", chat="3号楼业主群"):
    return Inbound(channel="console", chat_id=chat, chat_kind="group", sender_id=sender, sender_name=sender,
                   text=text, message_id=message_id, sender_chat=f"@{sender}")


def with_wechat_room(tmp_path) -> Settings:
    """The shipped config, with 3号楼业主群 on WeChat too (b3@chatroom); a group not in config files nothing."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text("utf-8"))
    data["chats"][0]["wechat"] = "b3@chatroom"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return Settings.load(path, env={}).model_copy(update={"database_url": f"sqlite:///{tmp_path / 'doorstep.db'}",
                                                          "spool_path": tmp_path / "spool.jsonl"})


def rows(app, model):
    with UnitOfWork(app.db) as uow:
        return list(uow.session.exec(select(model)))


def test_redelivered_message_changes_nothing(settings, clock):
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    for _ in range(3):
        app.handle(group("#投诉 3号楼电梯坏了", "wx-1"))
    assert len(rows(app, Request)) == 1
    assert len(rows(app, Outbox)) == 2  # the group acknowledgement and the grid member's notice, once


def test_chatter_leaves_no_trace(settings, clock):
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    for i, text in enumerate(["早上好！", "谢谢网格员小李，电梯已经修好了👍", "[图片]", "好的", "收到", "1"]):
        app.handle(group(text, f"m{i}"))
    assert rows(app, ProcessedMessage) == [] and rows(app, Offer) == [] and rows(app, Outbox) == []
    assert [p.name for p in rows(app, Person) if p.staff_id is None] == []


def test_short_group_chatter_with_a_yes_word_in_it_is_screened_out_without_storage(settings, clock):
    """"好冷啊" has a 好 in it, "要下雨了" a 要: no answer to a filing offer, so no reason to open a transaction; words
    of filing ("好的登记吧") and bare answers ("好的") are still looked up, as a pending offer may wait for them."""
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    screen = app.dispatcher.screen
    assert [screen(group(text, f"s{i}")) for i, text in enumerate(["好冷啊", "要下雨了", "今天天气真好", "对不对"])] == [
        None] * 4
    assert all(screen(group(text, f"a{i}")) is not None
               for i, text in enumerate(["好的登记吧", "好的", "不用登记了", "嗯嗯 要的", "对对对", "不用了 谢谢"]))


def test_crash_between_commit_and_send_loses_nothing(settings, clock):
    first = build_app(settings, clock=clock, channels={"console": Recorder()})
    first.handle(group("#投诉 3号楼电梯坏了", "wx-1"))
    first.db.dispose()  # the process dies before its outbox is drained

    channel = Recorder()
    second = build_app(settings, clock=clock, channels={"console": channel})
    assert asyncio.run(second.drain()) == 2
    assert asyncio.run(second.drain()) == 0
    assert [m.chat_id for m in channel.sent] == ["3号楼业主群", "@李建国"]


def test_message_in_flight_when_the_process_died_is_sent_again_once(settings, clock):
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    app.handle(group("#投诉 3号楼电梯坏了", "wx-1"))
    leased = app.sender._lease("console", app.channels["console"])  # taken for sending, then the process dies
    assert sum(len(chat) for chat in leased) == 2
    channel = Recorder()
    again = build_app(settings, clock=clock, channels={"console": channel})
    assert asyncio.run(again.drain()) == 0, "a live lease is respected"
    clock.advance(timedelta(minutes=3))
    assert asyncio.run(again.drain()) == 2 and len(channel.sent) == 2


def test_failing_platform_is_retried_with_backoff_and_sends_once(settings, clock):
    channel = Recorder(failures=[ConnectionError("reset"), RetryLater(5)])
    app = build_app(settings, clock=clock, channels={"console": channel})
    app.handle(group("#投诉 3号楼电梯坏了", "wx-1"))
    asyncio.run(app.drain())
    assert len(channel.sent) == 0
    clock.advance(timedelta(seconds=10))
    asyncio.run(app.drain())
    assert len(channel.sent) == 2
    assert {r.status for r in rows(app, Outbox)} == {"sent"}
    clock.advance(timedelta(hours=1))
    asyncio.run(app.drain())
    assert len(channel.sent) == 2


def test_an_outage_of_hours_loses_nothing_and_a_day_old_message_is_given_up(settings, clock):
    channel = Recorder(failures=[ConnectionError("network is down")] * 30)
    app = build_app(settings, clock=clock, channels={"console": channel})
    app.handle(group("#投诉 3号楼电梯坏了", "wx-1"))  # an ack to the group and a notice to the grid member
    for _ in range(15):  # three hours of failing, each retry at its backoff (at most 10 minutes)
        asyncio.run(app.drain())
        clock.advance(timedelta(minutes=12))
    assert channel.sent == [] and {r.status for r in rows(app, Outbox)} == {"pending"}
    asyncio.run(app.drain())  # the network is back
    assert {r.status for r in rows(app, Outbox)} == {"sent"} and len(channel.sent) == 2

    channel.failures = [ConnectionError("network is down")] * 1000
    app.handle(group("#投诉 3号楼路灯不亮", "wx-2"))
    for _ in range(26):
        asyncio.run(app.drain())
        clock.advance(timedelta(hours=1))
    assert {r.status for r in rows(app, Outbox) if r.sent_at is None} == {"failed"}


def test_a_platform_that_stays_away_for_a_day_does_not_get_day_old_messages(settings, clock):
    channel = Recorder(failures=[RetryLater(600)] * 1000)  # as a channel that is not connected says
    app = report_and_retry(channel, settings, clock, timedelta(hours=23))
    assert {r.status for r in rows(app, Outbox)} == {"pending"}
    clock.advance(timedelta(hours=2))
    asyncio.run(app.drain())
    assert {r.status for r in rows(app, Outbox)} == {"failed"} and channel.sent == []


def report_and_retry(channel, settings, clock, later: timedelta):
    """A report in the group; its messages sent, and sent again `later` where they failed."""
    app = build_app(settings, clock=clock, channels={"console": channel})
    app.handle(group("#投诉 3号楼电梯坏了", "wx-1"))
    asyncio.run(app.drain())
    clock.advance(later)
    asyncio.run(app.drain())
    return app


def test_a_message_the_platform_refuses_is_not_sent_again(settings, clock):
    channel = Recorder(failures=[Rejected("message is too long")])
    app = report_and_retry(channel, settings, clock, timedelta(hours=1))
    refused = [r for r in rows(app, Outbox) if r.status == "failed"]
    assert len(refused) == 1 and refused[0].attempts == 1 and "too long" in refused[0].last_error
    assert len(channel.sent) == 1  # the other message of the report went out


def test_unreachable_chat_is_not_retried(settings, clock):
    channel = Recorder(failures=[Unreachable("bot was blocked")])
    app = report_and_retry(channel, settings, clock, timedelta(days=1))
    statuses = sorted(r.status for r in rows(app, Outbox) if r.purpose is None)
    assert statuses[0] == "failed"
    # The grid member got the notice and is told the group is lost; the group is not tried again.
    assert [m.chat_id for m in channel.sent] == ["@李建国", "@李建国"]
    assert "无法在群「3号楼业主群」发消息" in channel.sent[1].text


def test_quiet_hours_hold_residents_messages_but_not_urgent_ones(settings, clock):
    clock.advance(timedelta(hours=13))  # 23:00
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    app.handle(group("#投诉 3号楼楼道灯坏了", "a"))
    app.handle(Inbound(channel="console", chat_id="@李建国", chat_kind="private", sender_id="李建国",
                       sender_name="李建国", text="接单 1", message_id="b", sender_chat="@李建国"))
    app.handle(group("5栋电梯困人了！！快来人，里面有个老人", "c", sender="陈阿姨", chat="5号楼业主群"))
    outbox = {(r.chat_id, r.text[:12]): r.next_attempt_at for r in rows(app, Outbox)}
    held = [at for (chat, text), at in outbox.items() if chat == "@王阿姨"]
    assert held == [local(2026, 11, 24, 8)], "the claim notice to the resident waits for morning"
    [claimed] = [r.text for r in rows(app, Outbox) if r.chat_id == "@王阿姨"]
    assert claimed.endswith("\n（这条消息写于 11-23 23:00，夜间免打扰，今早发出）"), "'明天' in it meant the 24th"
    now = [at for (chat, _), at in outbox.items() if chat in ("@张伟", "@王强", "5号楼业主群")]
    assert len(now) >= 3 and all(at == clock.now() for at in now), "urgent alerts go at once"

    # Her mother is in that lift: that help is on its way reaches her at once, at night too.
    app.handle(Inbound(channel="console", chat_id="@张伟", chat_kind="private", sender_id="张伟", sender_name="张伟",
                       text="接单 2", message_id="d", sender_chat="@张伟"))
    [told] = [r for r in rows(app, Outbox) if "已由网格员张伟" in r.text]
    assert (told.chat_id, told.next_attempt_at) == ("@陈阿姨", clock.now()) and "夜间免打扰" not in told.text


def test_unexpected_error_keeps_the_message_and_apologises(settings, clock, monkeypatch):
    app = build_app(settings, clock=clock, channels={"console": Recorder()})

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr("handlers.dispatcher.file_request", broken)
    app.handle(group("#投诉 3号楼电梯坏了", "wx-9"))
    [kept] = rows(app, Offer)
    assert (kept.status, kept.text) == ("failed", "#投诉 3号楼电梯坏了")
    [reply] = rows(app, Outbox)
    assert reply.text == "抱歉，系统出了点问题。您的消息已保存，工作人员会跟进。" and "disk" not in reply.text


def test_digest_goes_out_once_even_with_two_instances(settings, clock):
    channel = Recorder()
    one = build_app(settings, clock=clock, channels={"console": channel})
    two = build_app(settings, clock=clock, channels={"console": channel}, migrate=False)
    assert [one.send_digest_if_due(), two.send_digest_if_due(), one.send_digest_if_due()] == [True, False, False]
    asyncio.run(one.drain())
    asyncio.run(two.drain())
    assert sorted(m.chat_id for m in channel.sent) == ["@王强", "@赵书记"]


def test_digest_is_not_sent_before_its_time(settings, clock):
    clock.advance(timedelta(hours=-3))  # 07:00
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    assert app.send_digest_if_due() is False
    clock.advance(timedelta(hours=1))
    assert app.send_digest_if_due() is True


class Paced(Recorder):
    """A channel that may send only every 0.2 s in all, like WeChat (there every 3 s)."""

    name = "wechat"
    overall_gap = 0.2


async def test_a_slowly_paced_channel_never_holds_up_another(tmp_path, clock):
    console, slow = Recorder(), Paced()
    app = build_app(with_wechat_room(tmp_path), clock=clock, channels={"console": console, "wechat": slow})
    for n in range(3):
        app.handle(Inbound(channel="wechat", chat_id="b3@chatroom", chat_kind="group", sender_id="wx-wang",
                           sender_name="王阿姨", text=f"#投诉 {n + 3}号楼电梯坏了", message_id=f"wx-{n}"))
    app.handle(group("#投诉 8号楼电梯坏了", "console-1"))
    await app.sender.kick()
    await app.sender.kick()  # the timer ticks again while WeChat is still sending: no second drain

    async def console_answered() -> None:
        while not any("诉求#4" in m.text for m in console.sent):
            await asyncio.sleep(0.01)
    await asyncio.wait_for(console_answered(), 5)
    assert len(slow.sent) < 3, "the console answered while WeChat was still sending its backlog, one per gap"
    await app.sender.idle()
    # Three acknowledgements, the first inviting her to a private chat: once, not per report, and in the same message.
    assert len(slow.sent) == len({m.outbox_id for m in slow.sent}) == 3, "every WeChat reply once"
    assert [("加我为好友" in m.text) for m in slow.sent] == [True, False, False]


async def test_a_reply_goes_out_as_soon_as_it_is_committed(settings, clock):
    console = Recorder()
    app = build_app(settings, clock=clock, channels={"console": console})
    app.handle(group("#投诉 3号楼电梯坏了", "wx-1"))
    await app.sender.idle()  # no drain asked for, no timer running: the commit woke the sender
    assert any("诉求#1" in m.text for m in console.sent)


@contextmanager
def database_away(app, tmp_path):
    """The SQLite file swapped for a directory, which SQLite cannot open: every connection fails, as with a disk
    gone or a server down; put back on leaving."""
    db_file = tmp_path / "doorstep.db"
    app.db.dispose()
    db_file.rename(tmp_path / "away.db")
    db_file.mkdir()
    try:
        yield
    finally:
        db_file.rmdir()
        (tmp_path / "away.db").rename(db_file)


def test_messages_that_came_while_the_database_was_away_are_handled_when_it_is_back(settings, clock, tmp_path):
    channel = Recorder()
    app = build_app(settings, clock=clock, channels={"console": channel})
    with database_away(app, tmp_path):
        app.handle(group("#投诉 3号楼电梯坏了", "wx-1"))
        app.handle(group("#投诉 3号楼路灯不亮", "wx-2"))
        assert app.spool.waiting == 2 and settings.spool_path.exists()
        assert asyncio.run(app.retry_kept()) == 0  # still away: both wait, in order
    assert asyncio.run(app.retry_kept()) == 2
    asyncio.run(app.drain())
    assert [r.text for r in rows(app, Request)] == ["#投诉 3号楼电梯坏了", "#投诉 3号楼路灯不亮"]
    assert sum("诉求#" in m.text and m.chat_id == "3号楼业主群" for m in channel.sent) == 2  # both acknowledged
    assert app.spool.waiting == 0 and not settings.spool_path.exists()

    app.handle(group("#投诉 3号楼电梯坏了", "wx-1"))  # a platform's redelivery after all that: still filed once
    assert len(rows(app, Request)) == 2


def test_kept_messages_survive_a_restart_and_go_before_new_ones(settings, clock, tmp_path):
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    app.spool.keep(group("#投诉 3号楼电梯坏了", "wx-1"))  # kept by a process that then stopped
    again = build_app(settings, clock=clock, channels={"console": Recorder()})
    assert again.spool.waiting == 1
    again.handle(group("#投诉 3号楼路灯不亮", "wx-2"))
    assert [r.text for r in rows(again, Request)] == ["#投诉 3号楼电梯坏了", "#投诉 3号楼路灯不亮"]


async def test_the_outbox_timer_logs_an_outage_once_and_its_end(settings, clock, tmp_path, caplog):
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    with database_away(app, tmp_path):
        for _ in range(5):  # five ticks of the timer
            await app.sender.kick()
            await app.sender.idle()
    await app.sender.kick()
    await app.sender.idle()
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.outbox"]
    assert [level for level, _ in said] == ["ERROR", "WARNING"] and "works again" in said[1][1]


def test_the_sweep_timer_logs_an_outage_once_and_its_end(settings, clock, tmp_path, caplog):
    app = build_app(settings, clock=clock, channels={"console": Recorder()})
    sweep = make_scheduler(app).get_job("sweep").func  # the job as the timer runs it, every 30 s
    with database_away(app, tmp_path):
        for _ in range(5):
            sweep()
    sweep()
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "bot.scheduler"]
    assert [level for level, _ in said] == ["ERROR", "WARNING"] and "works again" in said[1][1]
