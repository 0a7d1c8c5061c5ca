"""Who can be reached where: staff on a running channel, a group that was lost or moved, a group not yet bound."""
from __future__ import annotations

import asyncio
import logging

from bot.app import build_app
from bot.channels.base import Moved, Unreachable
from handlers.messages import Inbound
from storage.models import Offer, Outbox, Request
from tests.test_reliability import Recorder, rows
from tests.test_telegram import telegram_settings

GROUP = "-1003"  # 3号楼业主群 on Telegram, as telegram_settings configures it


class Telegram(Recorder):
    """Telegram as the outbox sees it: a user's private chat has the user's id."""

    name = "telegram"

    def private_chat_for(self, external_id):
        return external_id


def report(text: str, message_id: str, chat: str = GROUP, sender: str = "2001") -> Inbound:
    return Inbound(channel="telegram", chat_id=chat, chat_kind="group", sender_id=sender, sender_name="王阿姨",
                   text=text, message_id=message_id)


def contacts(**by_member):
    def edit(data):
        for member in data["members"]:
            if member["id"] in by_member:
                member["contacts"] = by_member[member["id"]]
    return edit


def test_a_staff_notice_goes_to_a_running_channel_in_config_order(tmp_path, clock):
    settings = telegram_settings(tmp_path, contacts(li_jianguo={"console": "李建国", "telegram": "1001"}))
    channel = Telegram()
    app = build_app(settings, clock=clock, channels={"telegram": channel})  # the console is off
    app.handle(report("#投诉 3号楼电梯坏了", "m1"))
    asyncio.run(app.drain())
    assert any(m.chat_id == "1001" and "诉求#1" in m.text for m in channel.sent)
    assert not [r for r in rows(app, Outbox) if r.channel == "console"], "nothing waits on a channel that is off"


def test_a_staff_member_with_no_running_channel_is_reported_loudly(tmp_path, clock, caplog):
    settings = telegram_settings(tmp_path, contacts(li_jianguo={"console": "李建国"}, wang_qiang={"telegram": "1004"},
                                                    zhao_hongmei={"telegram": "1005"}))
    channel = Telegram()
    app = build_app(settings, clock=clock, channels={"telegram": channel})
    with caplog.at_level(logging.ERROR):
        app.handle(report("#投诉 3号楼电梯坏了", "m1"))
        app.handle(report("#投诉 3号楼楼道灯不亮", "m2"))
    asyncio.run(app.drain())
    assert [r.levelname for r in caplog.records if "li_jianguo" in r.getMessage()] == ["ERROR"], "once, loudly"
    told = [m for m in channel.sent if m.chat_id in ("1004", "1005")]
    assert len(told) == 2 and all("李建国" in m.text for m in told), "the leader and the secretary, once each"
    assert {r.status for r in rows(app, Outbox) if r.person_id and r.chat_id == ""} == {"held"}
    assert "李建国" in next(line for line in app.digest_text().splitlines() if "📵" in line)


REPORTS = ("#投诉 3号楼电梯坏了", "#投诉 3号楼楼道灯不亮", "#投诉 3号楼水管漏水", "#投诉 3号楼垃圾没人清",
           "#投诉 3号楼暖气不热")


class Regrouped(Telegram):
    """Telegram after a group changed: `gone` chats answer 403, `moved` ones name their new id."""

    def __init__(self, gone=(), moved=None):
        super().__init__()
        self.gone, self.moved, self.tried = set(gone), dict(moved or {}), []

    async def send(self, message):
        self.tried.append(message.chat_id)
        if message.chat_id in self.gone:
            raise Unreachable("Forbidden: bot was kicked from the supergroup chat")
        if message.chat_id in self.moved:
            raise Moved(self.moved[message.chat_id])
        return await super().send(message)


def staff_says(text: str, message_id: str) -> Inbound:
    return Inbound(channel="telegram", chat_id="1001", chat_kind="private", sender_id="1001",
                   sender_name="李建国", text=text, message_id=message_id)


def test_a_group_that_removed_the_bot_is_marked_once_and_gets_nothing_more(tmp_path, clock):
    channel = Regrouped(gone={GROUP})
    app = build_app(telegram_settings(tmp_path), clock=clock, channels={"telegram": channel})
    for n, text in enumerate(REPORTS):
        app.handle(report(text, f"m{n}"))
    asyncio.run(app.drain())
    told = [m for m in channel.sent if m.chat_id == "1001" and "无法在群" in m.text]
    assert len(told) == 1 and "3号楼业主群" in told[0].text, "the grid member hears once, not per message"
    assert channel.tried.count(GROUP) == 1, "no more tries once the group answered 403"
    before = len(rows(app, Outbox))
    app.handle(staff_says("接单 1", "s1"))
    app.handle(staff_says("办结 1 已修好", "s2"))  # the reporter, reachable only in the group, would be asked to rate
    asyncio.run(app.drain())
    assert not [r for r in rows(app, Outbox)[before:] if r.chat_id == GROUP], "nothing more queued to the group"
    assert {r.status for r in rows(app, Outbox) if r.chat_id == GROUP} == {"failed"}


def test_a_group_become_supergroup_is_followed_to_its_new_id(tmp_path, clock):
    channel = Regrouped(moved={GROUP: "-100777"})
    app = build_app(telegram_settings(tmp_path), clock=clock, channels={"telegram": channel})
    app.handle(report(REPORTS[0], "m1"))
    app.handle(report(REPORTS[1], "m2"))
    asyncio.run(app.drain())
    texts = [m.text for m in channel.sent if m.chat_id == "-100777"]
    assert len(texts) == 2 and "诉求#1" in texts[0] and "诉求#2" in texts[1], "re-sent to the new id, in order"
    assert not [m for m in channel.sent if "无法" in m.text], "nobody is told: nothing went wrong for them"
    app.handle(report("#投诉 单元门禁刷不开", "m3", chat="-100777"))  # no building named: the chat's building
    asyncio.run(app.drain())
    assert rows(app, Request)[-1].building == "3"
    assert channel.sent[-1].chat_id in ("-100777", "1001") and not [
        m for m in channel.sent if "位置待确认" in m.text or "绑定" in m.text]


def test_a_group_bound_to_nothing_is_told_once_how_to_bind_and_nothing_is_lost(tmp_path, clock):
    stranger_group = "-100555"
    channel = Telegram()
    app = build_app(telegram_settings(tmp_path), clock=clock, channels={"telegram": channel})
    app.handle(report("#投诉 电梯坏了", "m1", chat=stranger_group))
    app.handle(report("#投诉 楼道灯不亮", "m2", chat=stranger_group))
    asyncio.run(app.drain())
    said = [m.text for m in channel.sent if m.chat_id == stranger_group]
    assert len(said) == 1 and "绑定群 3号楼" in said[0], "told once how to bind"
    assert rows(app, Request) == [] and not [m for m in channel.sent if m.chat_id != stranger_group]
    assert [o.text for o in rows(app, Offer) if o.status == "failed"] == ["#投诉 电梯坏了", "#投诉 楼道灯不亮"]

    app.handle(Inbound(channel="telegram", chat_id="1005", chat_kind="private", sender_id="1005",
                       sender_name="赵红梅", text="/bind ZHAO-7731", message_id="p1"))
    app.handle(report("/bindchat 3号楼", "m3", chat=stranger_group, sender="1005"))
    app.handle(report("#投诉 水管漏水", "m4", chat=stranger_group))
    assert [(r.building, r.source_chat) for r in rows(app, Request)] == [("3", stranger_group)]
    app.handle(Inbound(channel="telegram", chat_id="1005", chat_kind="private", sender_id="1005",
                       sender_name="赵红梅", text="我的", message_id="p2"))
    asyncio.run(app.drain())
    mine = [m.text for m in channel.sent if m.chat_id == "1005"][-1]
    assert "留存消息待处理（2）" in mine and "电梯坏了" in mine, "kept for the secretary, not lost"


def test_an_emergency_in_a_group_bound_to_nothing_is_told_whom_to_call_and_the_secretary_hears_at_once(tmp_path,
                                                                                                      clock):
    stranger_group = "-100555"
    channel = Telegram()
    app = build_app(telegram_settings(tmp_path), clock=clock, channels={"telegram": channel})
    app.handle(Inbound(channel="telegram", chat_id="1005", chat_kind="private", sender_id="1005",
                       sender_name="赵红梅", text="/bind ZHAO-7731", message_id="p1"))
    app.handle(report("#投诉 楼道灯不亮", "m1", chat=stranger_group))
    app.handle(report("楼下着火了，好大的烟", "m2", chat=stranger_group))
    asyncio.run(app.drain())
    said = [m.text for m in channel.sent if m.chat_id == stranger_group]
    assert len(said) == 2 and "绑定群 3号楼" in said[0] and "119" in said[1], "the number to call, binding or not"
    [alert] = [m.text for m in channel.sent if m.chat_id == "1005" and m.text.startswith("🚨")]
    assert "楼下着火了，好大的烟" in alert and "王阿姨" in alert
    assert rows(app, Request) == [], "nothing filed for a group the community has not bound"
