"""The whole loop in Telegram group and private chats: python-telegram-bot against the in-process fake Bot API."""
from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
import yaml
from aiohttp import ClientSession
from sqlmodel import select
from telegram.error import InvalidToken

from bot import logs
from bot.app import build_app
from bot.channels.telegram import TelegramChannel, staff_chats
from bot.settings import Settings, TelegramSettings
from storage.models import Outbox, Request
from storage.uow import UnitOfWork
from tests.conftest import PATIENCE, ROOT, LiveBot
from tests.fake_telegram import FakeBotApi, Failure
from tests.npm import free_port
from tests.test_reliability import Recorder, group

GROUP = {"id": -1003, "type": "supergroup", "title": "3号楼业主群"}
AUNT = {"id": 2001, "is_bot": False, "first_name": "王阿姨"}
LI = {"id": 1001, "is_bot": False, "first_name": "李建国"}
WANG = {"id": 1004, "is_bot": False, "first_name": "王强"}
ZHAO = {"id": 1005, "is_bot": False, "first_name": "赵红梅"}
CHEN = {"id": 1006, "is_bot": False, "first_name": "陈志远"}
STRANGER = {"id": 2002, "is_bot": False, "first_name": "路人"}


def private(user: dict) -> dict:
    return {"id": user["id"], "type": "private", "first_name": user["first_name"]}


def telegram_settings(tmp_path, edit: Callable[[dict], None] | None = None) -> Settings:
    """The shipped config, with Telegram ids for the 3号楼 group and two staff members, and a binding code.

    edit, when given, changes the config's data further before it is loaded.
    """
    data = yaml.safe_load((ROOT / "config.yaml").read_text("utf-8"))
    for member in data["members"]:
        if member["id"] == "li_jianguo":
            member["contacts"] = {"telegram": str(LI["id"])}
        if member["id"] == "chen_zhiyuan":
            member["contacts"] = {"telegram": str(CHEN["id"])}
        if member["id"] == "zhao_hongmei":
            member["bind_code"] = "ZHAO-7731"
    data["chats"][0]["telegram"] = str(GROUP["id"])
    if edit is not None:
        edit(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    settings = Settings.load(path, env={})
    return settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'tg.db'}"})


class Bot(LiveBot):
    """The bot running against the fake API."""

    def __init__(self, api: FakeBotApi, settings: Settings, clock, webhook_secret: str | None = None,
                 **telegram) -> None:
        super().__init__()
        self.api = api
        self.channel = TelegramChannel("123:TEST", TelegramSettings(
            enabled=True, base_url=api.base_url, poll_timeout=1, per_chat_gap=0, per_group_gap=0, **telegram),
            webhook_secret=webhook_secret, staff_chats=staff_chats(settings.community))
        self.app = build_app(settings, clock=clock, channels={"telegram": self.channel})

    async def start(self) -> None:
        await self.channel.start(self._handle)


@pytest.fixture
async def bot(tmp_path, clock):
    api = FakeBotApi()
    await api.start()
    running = Bot(api, telegram_settings(tmp_path), clock)
    await running.start()
    yield running
    await running.channel.stop()
    await api.stop()
    running.app.db.dispose()


def request_state(bot: Bot, number: int) -> str:
    with UnitOfWork(bot.app.db) as uow:
        return uow.session.get(Request, number).state


async def test_report_claim_done_with_photo_rate_in_telegram(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "#报修 2单元电梯坏了，按钮没反应")
    await bot.step(1)
    ack = api.last_in(GROUP, "诉求#1")
    assert "@王阿姨" in ack.text and "3号楼2单元" in ack.text
    assert "私聊" in api.texts_in(GROUP)[-1]  # she has never written to the bot privately: invited to
    notice = api.last_in(private(LI), "诉求#1")
    assert notice.buttons == [("接单", "接单 1")]

    await api.press(LI, private(LI), notice.message_id, "接单 1")
    await bot.step(2)
    assert api.calls_of("answerCallbackQuery")
    assert api.sent[(str(LI["id"]), notice.message_id)].text.endswith("✓ 接单")  # cannot be pressed twice
    assert request_state(bot, 1) == "claimed"

    await api.say(LI, private(LI), "办结 1 已更换按钮面板", photo="PHOTO-42")
    await bot.step(3)
    prompt = api.last_in(GROUP, "评价")
    assert "@王阿姨" in prompt.text and ("满意", "满意") in prompt.buttons
    with UnitOfWork(bot.app.db) as uow:
        done = [e for e in uow.requests.timeline(1) if e.action == "done"][0]
        assert done.data["attachments"] == ["telegram:photo:PHOTO-42"]

    await api.press(AUNT, GROUP, prompt.message_id, "满意")
    await bot.step(4)
    assert request_state(bot, 1) == "closed"
    assert api.sent[(str(GROUP["id"]), prompt.message_id)].text.endswith("✓ 满意")


async def test_reply_to_the_rating_prompt_is_a_rating(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "#报修 楼道灯不亮")
    await bot.step(1)
    await api.say(LI, private(LI), "接单 1")
    await api.say(LI, private(LI), "办结 1 换了灯泡")
    await bot.step(3)
    prompt = api.last_in(GROUP, "评价")
    await api.say(AUNT, GROUP, "4分 挺快的", reply_to=prompt.message_id)
    await bot.step(4)
    assert request_state(bot, 1) == "closed"


async def test_a_rating_button_or_reply_rates_its_own_request_not_the_newest(bot: Bot, clock):
    api = bot.api
    await api.say(AUNT, GROUP, "#报修 楼道灯不亮")
    await api.say(AUNT, GROUP, "#微心愿 想请人帮忙换个灯泡")
    await bot.step(2)
    for step, command in enumerate(("接单 1", "接单 2", "办结 1 换了灯管", "办结 2 灯泡换好了"), start=3):
        clock.advance(timedelta(minutes=1))
        await api.say(LI, private(LI), command)
        await bot.step(step)
    older, newer = api.last_in(GROUP, "诉求#1（"), api.last_in(GROUP, "微心愿#2（")
    await api.press(AUNT, GROUP, older.message_id, "不满意")
    await bot.step(7)
    assert (request_state(bot, 1), request_state(bot, 2)) == ("reopened", "done")
    await api.say(AUNT, GROUP, "满意", reply_to=older.message_id)  # that one is not waiting for a score now
    await bot.step(8)
    assert "已重新打开，正在再次处理" in api.texts_in(GROUP)[-1]
    await api.say(AUNT, GROUP, "4分", reply_to=newer.message_id)
    await bot.step(9)
    assert (request_state(bot, 1), request_state(bot, 2)) == ("reopened", "closed")


async def test_an_offer_is_answered_by_its_button_and_only_by_the_one_it_asks(bot: Bot):
    api = bot.api
    # A neighbour whose own request waits for a rating in this group: "1" from her would be a score of 1.
    await api.say(STRANGER, GROUP, "#报修 5单元楼道灯不亮")
    await api.say(LI, private(LI), "接单 1")
    await api.say(LI, private(LI), "办结 1 换了灯泡")
    await bot.step(3)

    await api.say(AUNT, GROUP, "3号楼2单元的电梯按钮失灵")
    await bot.step(4)
    offer = api.last_in(GROUP, "需要登记为诉求吗")
    assert offer.buttons == [("登记", "1"), ("不用", "2")]

    await api.press(STRANGER, GROUP, offer.message_id, "1")  # not hers to answer
    await bot.step(5)
    assert api.sent[(str(GROUP["id"]), offer.message_id)].buttons, "still there for the one it asks"
    assert request_state(bot, 1) == "done", "the neighbour's own request was not rated by her press"

    await api.press(AUNT, GROUP, offer.message_id, "1")
    await bot.step(6)
    assert api.sent[(str(GROUP["id"]), offer.message_id)].text.endswith("✓ 登记")
    assert request_state(bot, 2) == "assigned"
    with UnitOfWork(bot.app.db) as uow:
        assert uow.session.get(Request, 2).text == "3号楼2单元的电梯按钮失灵"


async def test_staff_binds_by_code_and_secretary_binds_a_group(bot: Bot):
    api = bot.api
    await api.say(ZHAO, private(ZHAO), "/start ZHAO-7731")
    await bot.step(1)
    assert "绑定成功" in api.texts_in(private(ZHAO))[-1]
    await api.say(STRANGER, private(STRANGER), "绑定 ZHAO-7731")
    await bot.step(2)
    assert "已经用过" in api.texts_in(private(STRANGER))[-1]

    new_group = {"id": -1008, "type": "supergroup", "title": "8号楼新群"}
    await api.say(STRANGER, new_group, "/bindchat 8号楼")
    await api.say(ZHAO, new_group, "/bindchat 8号楼")
    await bot.step(4)
    texts = api.texts_in(new_group)
    assert "只有社区书记或网格长" in texts[0] and "已绑定到 8号楼" in texts[1]
    await api.say(AUNT, new_group, "#报修 电梯坏了")
    await bot.step(5)
    with UnitOfWork(bot.app.db) as uow:
        assert uow.session.get(Request, 1).building == "8"


@pytest.mark.parametrize("status, description", [
    (403, "Forbidden: bot was kicked from the group chat"),
    (400, "Bad Request: not enough rights to send text messages to the chat")])
async def test_blocked_group_marks_it_unreachable_and_tells_the_grid_member(bot: Bot, status, description):
    api = bot.api
    api.failures.append(Failure("sendMessage", status, times=5, chat_id=str(GROUP["id"]), description=description))
    await api.say(AUNT, GROUP, "#报修 电梯坏了")
    await bot.step(1)
    await bot.app.drain()
    assert any("无法在群「3号楼业主群」发消息" in t for t in api.texts_in(private(LI)))
    with UnitOfWork(bot.app.db) as uow:
        rows = list(uow.session.exec(select(Outbox).where(Outbox.chat_id == str(GROUP["id"]))))
        assert rows and all(r.status == "failed" and r.attempts == 1 for r in rows)  # never looped


async def test_staff_who_cannot_be_reached_is_never_written_to_in_the_group(tmp_path, clock):
    """李建国 never opened a chat with the bot (403): his notices wait for him, never go to the residents' group;
    the leader and the secretary hear of it once, the digest lists him, and once he says hello they go to him."""
    def staff_on_telegram(data: dict) -> None:
        for member in data["members"]:
            if member["id"] in ("wang_qiang", "zhao_hongmei"):
                member["contacts"] = {"telegram": str({"wang_qiang": WANG, "zhao_hongmei": ZHAO}[member["id"]]["id"])}

    api = FakeBotApi()
    await api.start()
    api.failures.append(Failure("sendMessage", 403, chat_id=str(LI["id"]),
                                description="Forbidden: bot can't initiate conversation with a user"))
    bot = Bot(api, telegram_settings(tmp_path, staff_on_telegram), clock)
    await bot.start()
    try:
        secret = "#投诉 楼上天天半夜拖椅子，我是402的 电话18612345678，别说是我反映的"
        await api.say(AUNT, GROUP, secret)
        await bot.step(1)
        await api.say(AUNT, GROUP, "#报修 2单元电梯坏了")
        await api.say(AUNT, GROUP, "#报修 楼道灯不亮")
        await bot.step(3)
        group_texts = "\n".join(api.texts_in(GROUP))
        assert "诉求#2" in group_texts
        # The acknowledgement names who handles it (李建国); his notice itself, with what to answer, never comes here.
        for private_detail in ("402", "18612345678", "拖椅子", "反映人", "接单 1", "接单 2"):
            assert private_detail not in group_texts
        for boss in (WANG, ZHAO):
            told = [t for t in api.texts_in(private(boss)) if "无法私信联系网格员李建国" in t]
            assert len(told) == 1, "once per person, not once per notice"
        clock.advance(timedelta(days=1))
        await bot.app.tick()
        assert "无法私信联系（通知已保留" in api.last_in(private(ZHAO), "日报").text

        await api.say(LI, private(LI), "你好")
        await bot.step(4)
        notices = "\n".join(api.texts_in(private(LI)))
        assert all(f"诉求#{n}" in notices for n in (1, 2, 3)) and "18612345678" in notices  # his, in private
        with UnitOfWork(bot.app.db) as uow:
            assert not uow.outbox.held_for(uow.people.by_staff_id("li_jianguo").id)
    finally:
        await bot.channel.stop()
        await api.stop()
        bot.app.db.dispose()


async def test_a_note_for_a_resident_reached_in_the_group_shows_no_phone_number(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "#报修 楼道灯不亮")  # she never wrote to the bot privately: news reach her here
    await api.say(LI, private(LI), "接单 1")
    await api.say(LI, private(LI), "进展 1 电工下午到，电话13912345678")
    await bot.step(3)
    progress = api.last_in(GROUP, "新进展")
    assert "@王阿姨" in progress.text and "139****5678" in progress.text and "13912345678" not in progress.text


async def test_429_and_502_lose_nothing_and_send_nothing_twice(bot: Bot, clock):
    api = bot.api
    api.failures += [Failure("sendMessage", 429, retry_after=30), Failure("sendMessage", 502, times=2)]
    await api.say(AUNT, GROUP, "#报修 电梯坏了")
    await bot.step(1)
    for _ in range(4):  # past the retry-after and the backoff
        clock.advance(timedelta(minutes=1))
        await bot.app.drain()
    delivered = [t for t in api.texts_in(GROUP) if "诉求#1" in t] + \
                [t for t in api.texts_in(private(LI)) if "诉求#1" in t]
    assert len(delivered) == 2  # the group's acknowledgement and the grid member's notice, once each
    with UnitOfWork(bot.app.db) as uow:
        assert {r.status for r in uow.session.exec(select(Outbox))} == {"sent"}


async def test_a_message_telegram_refuses_fails_at_once_and_the_rest_goes(bot: Bot, clock):
    api = bot.api
    api.failures.append(Failure("sendMessage", 400, chat_id=str(GROUP["id"]),
                                description="Bad Request: message is too long"))
    await api.say(AUNT, GROUP, "#报修 电梯坏了")
    await bot.step(1)
    clock.advance(timedelta(hours=1))
    await bot.app.drain()
    with UnitOfWork(bot.app.db) as uow:
        refused = [r for r in uow.session.exec(select(Outbox)) if r.status != "sent"]
    assert len(refused) == 1 and (refused[0].status, refused[0].attempts) == ("failed", 1)
    assert refused[0].chat_id == str(GROUP["id"]) and "诉求#1" in refused[0].text
    acks = [p for p in api.calls_of("sendMessage") if p["chat_id"] == str(GROUP["id"]) and "诉求#1" in p["text"]]
    assert len(acks) == 1  # tried once, never again
    assert any("诉求#1" in t for t in api.texts_in(private(LI)))  # the grid member's notice went out


async def test_redelivered_update_is_filed_once(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "#报修 电梯坏了")
    await bot.until_handled(1)
    await api.redeliver_last()
    await bot.step(2)
    with UnitOfWork(bot.app.db) as uow:
        assert len(list(uow.session.exec(select(Request)))) == 1


async def test_edited_and_service_messages_are_ignored(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "#报修 电梯坏了", edited=True)
    await api.say(AUNT, GROUP, "#报修 楼道灯坏了")
    await bot.step(1)
    with UnitOfWork(bot.app.db) as uow:
        assert [r.category for r in uow.session.exec(select(Request))] == ["electricity"]


async def test_a_photo_alone_is_answered_in_private_and_left_alone_in_the_group(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, photo="PHOTO-1")
    await api.say(AUNT, private(AUNT), photo="PHOTO-2")
    await bot.step(2)
    assert api.texts_in(GROUP) == []
    assert ["配一句文字" in t for t in api.texts_in(private(AUNT))] == [True]
    with UnitOfWork(bot.app.db) as uow:
        assert list(uow.session.exec(select(Request))) == []


async def test_a_photo_captioned_only_with_a_tag_is_filed_the_photo_says_what(bot: Bot):
    await bot.api.say(AUNT, GROUP, "#报修", photo="PHOTO-LAMP")
    await bot.step(1)
    with UnitOfWork(bot.app.db) as uow:
        [filed] = [e for e in uow.requests.timeline(1) if e.action == "filed"]
    assert filed.data["attachments"] == ["telegram:photo:PHOTO-LAMP"]


async def test_the_bot_mentioned_alone_asks_what_is_wrong_and_a_mention_with_thanks_files_nothing(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "@doorstep_test_bot")
    await api.say(AUNT, GROUP, "@doorstep_test_bot 谢谢")
    await bot.step(2)
    assert api.texts_in(GROUP) == ["@王阿姨 请说说遇到了什么问题，例如「3号楼2单元电梯坏了」。", "@王阿姨 不客气！有需要随时找我。"]
    with UnitOfWork(bot.app.db) as uow:
        assert list(uow.session.exec(select(Request))) == []


async def test_a_command_addressed_to_another_bot_is_left_to_it(bot: Bot):
    api = bot.api
    for text in ("/help@SomeOtherBot", "/my@OtherBot", "/done@OtherBot 1 fixed", "/help@doorstep_test_bot",
                 "/my@Doorstep_Test_Bot"):
        await api.say(AUNT, GROUP, text)
    await bot.step(2)  # updates come in order: the two handled come after the three dropped
    replies = api.texts_in(GROUP)
    assert len(replies) == 2, "only the commands addressed to this bot are answered"
    assert replies[0].startswith("@王阿姨 您好！我是小区助手。") and replies[1].startswith("@王阿姨 您目前没有反映过的诉求")


async def test_a_list_or_a_timeline_asked_for_in_the_group_stays_out_of_it(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "#报修 2单元电梯坏了，按钮没反应")
    await api.say(AUNT, GROUP, "/my")
    await bot.step(2)
    assert api.texts_in(GROUP)[-1] == "@王阿姨 您有 1 件诉求。清单请私聊我发「我的诉求」查看。"  # no private chat yet
    assert not any("#1 电梯" in text for text in api.texts_in(GROUP))

    await api.say(STRANGER, GROUP, "#报修 3号楼电梯又坏了，我家老人在12楼下不了楼")  # a follower, with her detail
    await api.say(AUNT, GROUP, "查看 1")
    await bot.step(4)
    assert api.texts_in(GROUP)[-1] == (
        "@王阿姨 #1 电梯·3号楼2单元·待接单·11-23 11:00 前接单\n完整记录请私聊我发「查看 1」。")
    assert not any("按钮没反应" in text or "12楼" in text for text in api.texts_in(GROUP))


async def test_each_audience_gets_its_own_command_menu_in_both_languages(bot: Bot):
    api = bot.api
    assert api.menu("default") == ["my", "help"] == api.menu("default", language="en")  # residents: no /bind
    assert api.menu("all_chat_administrators") == ["my", "help", "bindchat"]  # the secretary binds her group
    staff = api.menu("chat", private(LI))  # a grid member from config, in his private chat
    assert {"claim", "done", "show"} <= set(staff) and "bind" not in staff and api.menu("chat", private(LI), "en")
    assert api.menu("chat", private(AUNT)) == [] and api.menu("chat", private(ZHAO)) == []
    registered = {c.get("language_code"): {x["command"]: x["description"] for x in c["commands"]}
                  for c in api.calls_of("setMyCommands") if "scope" not in c or c["scope"]["type"] == "default"}
    assert (registered[None]["my"], registered["en"]["my"]) == ("我的诉求", "My requests")

    await api.say(ZHAO, private(ZHAO), "/start ZHAO-7731")  # bound by code: her chat gets the staff menu too
    await bot.step(1)
    assert "绑定成功" in api.texts_in(private(ZHAO))[-1]
    assert api.menu("chat", private(ZHAO)) == staff


def waiting_for_telegram(app) -> list[Outbox]:
    with UnitOfWork(app.db) as uow:
        return list(uow.session.exec(select(Outbox).where(Outbox.channel == "telegram", Outbox.status != "sent")))


async def test_telegram_down_at_start_holds_its_messages_and_catches_up(tmp_path, clock, caplog):
    """The bot starts while Telegram cannot be reached: the rest runs, Telegram's messages wait, then go once."""
    port = free_port()
    channel = TelegramChannel("123:TEST", TelegramSettings(
        enabled=True, base_url=f"http://127.0.0.1:{port}/bot", poll_timeout=1, per_chat_gap=0, per_group_gap=0, retry_first=0.05,
        retry_max=0.2))
    console = Recorder()
    app = build_app(telegram_settings(tmp_path), clock=clock, channels={"telegram": channel, "console": console})
    caplog.set_level(logging.WARNING, logger="bot.channels.telegram")
    api = FakeBotApi()
    await channel.start(app.handle)  # returns although nobody answers
    try:
        assert not channel.online and "Telegram cannot be reached" in caplog.text

        app.handle(group("#投诉 3号楼电梯坏了", "console-1"))  # the resident is on the console, 李建国 on Telegram
        await app.drain()
        assert any("诉求#1" in m.text for m in console.sent)
        assert [row.chat_id for row in waiting_for_telegram(app)] == [str(LI["id"])]

        await api.start(port)
        await asyncio.wait_for(until(lambda: channel.online), PATIENCE)
        clock.advance(timedelta(minutes=1))  # past the short wait the outbox was asked for
        await app.drain("telegram")
        assert waiting_for_telegram(app) == []
        notices = [p for p in api.calls_of("sendMessage") if "诉求#1" in p["text"]]
        assert [str(p["chat_id"]) for p in notices] == [str(LI["id"])]
        assert "Telegram reached" in caplog.text
    finally:
        await channel.stop()
        await api.stop()
        app.db.dispose()


async def test_a_rejected_token_is_reported_once_and_the_rest_runs(tmp_path, clock, caplog):
    api = FakeBotApi()
    await api.start()
    api.failures.append(Failure("getMe", 401, description="Unauthorized"))
    channel = TelegramChannel("123:WRONG", TelegramSettings(enabled=True, base_url=api.base_url, poll_timeout=1,
                                                             retry_first=0.05))
    console = Recorder()
    app = build_app(telegram_settings(tmp_path), clock=clock, channels={"telegram": channel, "console": console})
    caplog.set_level(logging.WARNING, logger="bot.channels.telegram")
    await channel.start(app.handle)
    try:
        assert not channel.online and channel.refused  # given up on for good, not retried in the background
        assert "rejected the bot token" in caplog.text and "WRONG" not in caplog.text  # no token in the log
        app.handle(group("#投诉 3号楼电梯坏了", "console-1"))
        await app.drain()
        assert any("诉求#1" in m.text for m in console.sent)
        assert len(waiting_for_telegram(app)) == 1  # kept, for when the token is put right
        assert len(api.calls_of("getMe")) == 1 and not api.calls_of("getUpdates")  # no retrying a refusal
    finally:
        await channel.stop()
        await api.stop()
        app.db.dispose()


async def test_no_token_reaches_the_log_even_when_verbose(tmp_path, clock):
    """`doorstep run -v`: httpx logs every request URL, and Bot API URLs carry the token; tracebacks may too."""
    token, gateway_token = "123456:AAE-secretSECRETsecret_0123456789abc", "wx-gateway-token-77"
    out = io.StringIO()
    handler = logs.configure(True, {"TELEGRAM_BOT_TOKEN": token, "WECHATY_PUPPET_SERVICE_TOKEN": gateway_token}, out)
    api = FakeBotApi()
    await api.start()
    channel = TelegramChannel(token, TelegramSettings(enabled=True, base_url=api.base_url, poll_timeout=1))
    app = build_app(telegram_settings(tmp_path), clock=clock, channels={"telegram": channel})
    try:
        await channel.start(app.handle)
        await asyncio.wait_for(until(lambda: "getUpdates" in out.getvalue()), PATIENCE)
        logging.getLogger("wechaty").warning("connecting to the gateway with token %s", gateway_token)
        try:
            raise InvalidToken(f"bot {token} was refused")
        except InvalidToken:
            logging.getLogger("bot.channels.telegram").exception("sending failed")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
        await channel.stop()
        await api.stop()
        app.db.dispose()
    text = out.getvalue()
    assert "HTTP Request: POST" in text and "/bot***/getUpdates" in text and "raise InvalidToken" in text
    assert "secretSECRET" not in text and gateway_token not in text


async def test_doorstep_run_verbose_logs_no_token(tmp_path):
    """The command itself, as an operator runs it: `doorstep run -v` with the token in the environment."""
    token = "123456:AAE-secretSECRETsecret_0123456789abc"
    api = FakeBotApi()
    await api.start()
    data = yaml.safe_load((ROOT / "config.yaml").read_text("utf-8"))
    data["channels"] = {"console": {"enabled": False},
                        "telegram": {"enabled": True, "base_url": api.base_url, "poll_timeout": 1}}
    data["database"] = {"path": str(tmp_path / "run.db"), "spool": str(tmp_path / "spool.jsonl")}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WECHATY_PUPPET_SERVICE_TOKEN")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "-v", "--config", str(config), env={**env, "TELEGRAM_BOT_TOKEN": token},
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    logged = []
    try:
        async def read_until_polling() -> None:
            while not any("getUpdates" in line for line in logged):
                line = await process.stderr.readline()
                assert line, "doorstep stopped: " + "".join(logged)
                logged.append(line.decode())
        await asyncio.wait_for(read_until_polling(), PATIENCE)
    finally:
        process.terminate()
        await process.wait()
        await api.stop()
    text = "".join(logged)
    assert "/bot***/getUpdates" in text and "secretSECRET" not in text


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.02)


async def test_updates_arrive_by_webhook_with_its_secret(tmp_path, clock):
    api = FakeBotApi()
    await api.start()
    port = free_port()
    bot = Bot(api, telegram_settings(tmp_path), clock, webhook_secret="s3cret", webhook_listen="127.0.0.1",
              webhook_port=port, webhook_url=f"http://127.0.0.1:{port}/123")
    await bot.start()
    try:
        assert (api.webhook["url"], api.webhook["secret_token"]) == (f"http://127.0.0.1:{port}/123", "s3cret")
        assert not api.calls_of("getUpdates")
        await api.say(AUNT, GROUP, "#报修 2单元电梯坏了")
        await bot.step(1)
        assert api.webhook_answers == [200] and "诉求#1" in api.texts_in(GROUP)[0]

        forged = {"update_id": 99, "message": {"message_id": 99, "date": 0, "chat": GROUP, "from": AUNT,
                                               "text": "#报修 假的"}}
        async with ClientSession() as http:
            async with http.post(api.webhook["url"], json=forged,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}) as answer:
                assert answer.status == 403  # only Telegram knows the secret
        with UnitOfWork(bot.app.db) as uow:
            assert len(list(uow.session.exec(select(Request)))) == 1
    finally:
        await bot.channel.stop()
        await api.stop()
        bot.app.db.dispose()


async def test_a_linked_channel_post_forwarded_into_the_group_is_no_report(bot: Bot):
    api = bot.api
    notice = "#报修 【幸福里公告】3号楼电梯年检，周六停运半天"  # would be filed, were it a resident's
    service = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
    announcements = {"id": -100777, "type": "channel", "title": "幸福里公告"}
    await api.say(service, GROUP, notice, is_automatic_forward=True, sender_chat=announcements)
    await api.say(service, GROUP, notice, sender_chat=announcements)
    await api.say(AUNT, GROUP, "#报修 3号楼楼道灯不亮")
    await bot.step(1)  # the resident's report is the first message the bot was handed
    with UnitOfWork(bot.app.db) as uow:
        assert [r.text for r in uow.session.exec(select(Request))] == ["#报修 3号楼楼道灯不亮"]
    assert not any("Telegram" in text for text in api.texts_in(GROUP))


async def test_the_acknowledgement_and_the_invitation_are_one_message_that_fits_telegram(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "#报修 2单元电梯坏了，按钮没反应")
    await bot.step(1)
    [ack] = api.texts_in(GROUP)  # a group takes 20 messages a minute: one, not two
    assert "诉求#1" in ack and "发消息" in ack and "加我为好友" not in ack, "Telegram has no friends to add"


async def test_a_pressed_button_shows_a_tick_only_when_it_worked(bot: Bot):
    api = bot.api
    await api.say(AUNT, GROUP, "#微心愿 想请人帮忙换个灯泡")
    await bot.step(1)
    offer = api.last_in(private(CHEN), "微心愿#1")
    assert ("接单", "接单 1") in offer.buttons
    await api.say(LI, private(LI), "接单 1")  # someone else took it first
    await bot.step(2)
    await api.press(CHEN, private(CHEN), offer.message_id, "接单 1")
    await bot.step(3)
    prompt = api.sent[(str(CHEN["id"]), offer.message_id)]
    assert prompt.text.endswith("✗ 接单") and not prompt.buttons, "not ✓: he did not get it"
    assert "微心愿#1" in api.texts_in(private(CHEN))[-1], "and he is told why"


async def test_photos_go_with_the_notice_the_done_note_and_details_never_to_the_group(bot: Bot):
    api = bot.api
    await api.say(AUNT, private(AUNT), "你好")
    await api.say(AUNT, GROUP, "#报修 2单元电梯坏了", photo="PHOTO-REPORT")
    await bot.step(2)
    assert api.photos_in(private(LI)) == ["PHOTO-REPORT"]
    assert "诉求#1" in api.texts_in(private(LI))[-1], "the photo first, the notice with its button after"
    await api.say(LI, private(LI), "接单 1")
    await api.say(LI, private(LI), "办结 1 已更换按钮面板", photo="PHOTO-DONE")
    await bot.step(4)
    assert api.photos_in(private(AUNT)) == ["PHOTO-DONE"]
    await api.say(LI, private(LI), "详情 1")
    await bot.step(5)
    assert api.photos_in(private(LI)) == ["PHOTO-REPORT", "PHOTO-REPORT", "PHOTO-DONE"]
    assert "附照片 2 张" in api.texts_in(private(LI))[-1]
    assert api.photos_in(GROUP) == [], "a photo may show someone's home: never to the group"


async def test_reports_from_a_group_become_supergroup_belong_to_its_building(bot: Bot):
    api = bot.api
    supergroup = {"id": -1009003, "type": "supergroup", "title": "3号楼业主群"}
    await api.say(AUNT, supergroup, "", migrate_from_chat_id=GROUP["id"])  # Telegram's note in the new group
    await api.say(AUNT, supergroup, "#报修 2单元电梯坏了")
    await bot.step(2)
    assert "3号楼2单元" in api.last_in(supergroup, "诉求#1").text
    assert not [t for t in api.texts_in(supergroup) if "绑定" in t], "no stranger: nobody is asked to bind it"
