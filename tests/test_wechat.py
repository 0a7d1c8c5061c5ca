"""The whole loop in WeChat rooms and private chats: the Wechaty Python SDK against npm's puppet service and mock."""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from sqlmodel import select

from bot.app import build_app
from bot.channels.wechat import WeChatChannel
from bot.settings import Settings, WeChatSettings
from bot.web.server import create_web_app
from storage.models import Outbox, Request
from storage.uow import UnitOfWork
from tests.conftest import PATIENCE, ROOT, LiveBot
from tests.fake_telegram import PHOTO
from tests.npm import free_port
from tests.test_reliability import Recorder, group
from tests.wechat_gateway import AUNT, BOT, CHEN, LI, ROOM, STRANGER, ZHAO, Gateway
from tests.web import LINK

FAST = dict(enabled=True, per_chat_gap=0, per_minute=6000, login_timeout=10, retry_first=0.2, retry_max=0.5)


def wechat_settings(tmp_path) -> Settings:
    """The shipped config, with WeChat ids for the 3号楼 room and two staff members, and a binding code."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text("utf-8"))
    for member in data["members"]:
        if member["id"] == "li_jianguo":
            member["contacts"] = {"wechat": LI["id"]}
        if member["id"] == "chen_zhiyuan":
            member["contacts"] = {"wechat": CHEN["id"]}
        if member["id"] == "zhao_hongmei":
            member["bind_code"] = "ZHAO-7731"
    data["chats"][0]["wechat"] = ROOM["id"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    settings = Settings.load(path, env={})
    return settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'wx.db'}"})


class Bot(LiveBot):
    """The bot with a WeChat channel (and a recording console)."""

    def __init__(self, gateway: Gateway, settings: Settings, clock, **wechat) -> None:
        super().__init__()
        self.channel = WeChatChannel(gateway.endpoint, wechat.pop("token", gateway.token),
                                     WeChatSettings(**{**FAST, **wechat}))
        self.console = Recorder()
        self.app = build_app(settings, clock=clock, channels={"wechat": self.channel, "console": self.console})

    async def start(self) -> None:
        await self.channel.start(self._handle)

    async def online(self, timeout: float = 15) -> None:
        assert await asyncio.to_thread(self.channel.wait_online, timeout), "WeChat did not log in"

    def requests(self) -> list[Request]:
        with UnitOfWork(self.app.db) as uow:
            return list(uow.session.exec(select(Request).order_by(Request.id)))


@pytest.fixture(scope="module")
def gateway():
    server = Gateway()
    server.start()
    yield server
    server.kill()


@pytest.fixture
async def bot(gateway, tmp_path, clock):
    await gateway.forget()
    running = Bot(gateway, wechat_settings(tmp_path), clock)
    await running.start()
    await running.online()
    yield running
    await running.channel.stop()
    running.app.db.dispose()


async def test_report_claim_done_rating_closed(bot, gateway):
    await gateway.say(AUNT, "@家门口\u2005#报修 3号楼2单元电梯又坏了，困了好几个老人", room=ROOM, mentions=(BOT,))
    await bot.step(1)
    ack = await gateway.wait_for(ROOM, "诉求#1")
    assert ack["mentionIds"] == [AUNT["id"]] and ack["text"].startswith("@王阿姨"), ack
    assert "3号楼2单元" in ack["text"]
    notice = await gateway.wait_for(LI, "诉求#1")
    assert "接单 1" in notice["text"], "the grid member is told how to claim, in text: WeChat has no buttons"

    await gateway.say(LI, "接单 1")
    await bot.step(2)
    await gateway.say(LI, "办结 1 已联系电梯公司更换门机板")
    await bot.step(3)
    prompt = await gateway.wait_for(ROOM, "请您评价")
    assert prompt["mentionIds"] == [AUNT["id"]], "a resident who is no friend of the bot is asked in the room"
    assert "回复 1–5" in prompt["text"]

    await gateway.say(AUNT, "满意", room=ROOM)
    await bot.step(4)
    await gateway.wait_for(ROOM, "谢谢您的评价")
    [request] = bot.requests()
    assert (request.state, request.rating, request.building, request.unit) == ("closed", 5, "3", "2")


async def test_quoted_reply_to_the_rating_prompt_is_a_rating(bot, gateway):
    await gateway.say(AUNT, "#投诉 3号楼楼道灯坏了一个星期", room=ROOM)
    await bot.step(1)
    await gateway.say(LI, "接单 1")
    await bot.step(2)
    await gateway.say(LI, "办结 1 换好了")
    await bot.step(3)
    await gateway.wait_for(ROOM, "请您评价")
    quote = "「家门口：@王阿姨 诉求#1（公共设施）已办结：换好了 请您评价」\n- - - - - - - - - - - - - - -\n4分"
    await gateway.say(AUNT, quote, room=ROOM)
    await bot.step(4)
    await gateway.wait_for(ROOM, "谢谢您的评价")
    assert bot.requests()[0].rating == 4


async def test_a_quoted_rating_prompt_rates_the_request_it_names_not_the_newest(bot, gateway, clock):
    await gateway.say(AUNT, "#投诉 3号楼楼道灯坏了一个星期", room=ROOM)
    await gateway.say(AUNT, "#投诉 3号楼垃圾三天没清运了", room=ROOM)
    await bot.step(2)
    for step, command in enumerate(("接单 1", "接单 2", "办结 1 换好了", "办结 2 已清运"), start=3):
        clock.advance(timedelta(minutes=1))
        await gateway.say(LI, command)
        await bot.step(step)
    await gateway.wait_for(ROOM, "诉求#2（环境卫生）已办结：已清运")
    quote = "「家门口：@王阿姨 诉求#1（公共设施）已办结：换好了 请您评价」\n- - - - - - - - - - - - - - -\n不满意 还是不亮"
    await gateway.say(AUNT, quote, room=ROOM)
    await bot.step(7)
    await gateway.wait_for(ROOM, "诉求#1 已重新打开")
    assert [(r.state, r.rating) for r in bot.requests()] == [("reopened", 1), ("done", None)]


async def test_micro_wish_claimed_by_a_volunteer(bot, gateway):
    await gateway.say(AUNT, "#微心愿 3号楼502想请人帮忙换个灯泡，我够不着", room=ROOM)
    await bot.step(1)
    offer = await gateway.wait_for(CHEN, "微心愿#1")
    assert "接单 1" in offer["text"]
    await gateway.say(CHEN, "接单 1")
    await bot.step(2)
    [wish] = bot.requests()
    assert wish.kind == "wish" and wish.state == "claimed"
    with UnitOfWork(bot.app.db) as uow:
        assert uow.people.get(wish.assignee_id).staff_id == "chen_zhiyuan"


async def test_unauthorised_command_is_refused_and_changes_nothing(bot, gateway):
    await gateway.say(AUNT, "#投诉 3号楼门口垃圾堆了三天没人清", room=ROOM)
    await bot.step(1)
    await gateway.say(STRANGER, "办结 1 我说好了")
    await bot.step(2)
    refusal = (await gateway.sent_to(STRANGER))[-1]["text"]
    assert "网格员使用的命令" in refusal, refusal
    assert bot.requests()[0].state == "assigned"


async def test_redelivered_message_is_filed_once(bot, gateway):
    from wechaty.utils.async_helper import SingleIdContainer

    first = await gateway.say(AUNT, "#投诉 3号楼地下室漏水", room=ROOM, message_id="dup-report-1")
    await bot.step(1)
    # The SDK drops ids it has seen in this process; a restarted process has forgotten them, the database has not.
    SingleIdContainer.instance().ids.discard(first)
    await gateway.redeliver(first)
    await bot.step(2)
    assert len(bot.requests()) == 1
    assert len([m for m in await gateway.sent_to(ROOM) if "诉求#1" in m["text"]]) == 1


async def test_a_resident_who_adds_the_bot_as_invited_hears_privately_from_then_on(bot, gateway):
    await gateway.say(AUNT, "#投诉 3号楼楼道灯坏了", room=ROOM)
    await bot.step(1)
    await gateway.wait_for(ROOM, "加我为好友")  # WeChat lets the bot write privately only to its friends
    asked = await gateway.befriend(AUNT, "我是3号楼的王阿姨")

    async def accepted() -> None:
        while asked not in await gateway.accepted():
            await asyncio.sleep(0.05)
    await asyncio.wait_for(accepted(), PATIENCE)

    await gateway.say(AUNT, "你好")
    await bot.step(2)
    await gateway.wait_for(AUNT, "您好！我是小区助手")
    await gateway.say(LI, "接单 1")
    await bot.step(3)
    await gateway.wait_for(AUNT, "已由网格员李建国")  # in her private chat now, not as a mention in the group
    assert not [m for m in await gateway.sent_to(ROOM) if "已由网格员李建国" in m["text"]]


async def test_staff_binds_their_wechat_by_one_time_code(bot, gateway):
    await gateway.say(ZHAO, "绑定 ZHAO-7731")
    await bot.step(1)
    await gateway.wait_for(ZHAO, "赵红梅")
    with UnitOfWork(bot.app.db) as uow:
        assert uow.people.by_identity("wechat", ZHAO["id"]).staff_id == "zhao_hongmei"
    await gateway.say(STRANGER, "绑定 ZHAO-7731")
    await bot.step(2)
    assert "已经用过" in (await gateway.sent_to(STRANGER))[-1]["text"], "a spent code is refused"
    with UnitOfWork(bot.app.db) as uow:
        assert uow.people.by_identity("wechat", STRANGER["id"]).staff_id is None


async def test_sending_is_paced_per_room(gateway, tmp_path, clock):
    await gateway.forget()
    bot = Bot(gateway, wechat_settings(tmp_path), clock, per_chat_gap=0.3, per_minute=600)
    await bot.start()
    await bot.online()
    try:
        before = len(await gateway.sent_to(ROOM))
        loop = asyncio.get_running_loop()
        started = loop.time()
        for n in range(3):
            await gateway.say(AUNT, f"#投诉 {n + 4}号楼电梯坏了", room=ROOM)
        await bot.step(3)
        elapsed = loop.time() - started
        assert len(await gateway.sent_to(ROOM)) - before >= 3
        assert elapsed >= 0.3 * 2 * 0.95, f"three messages to one room in {elapsed:.2f}s: not paced"
    finally:
        await bot.channel.stop()
        bot.app.db.dispose()


async def test_gateway_killed_mid_run(tmp_path, clock, caplog):
    """Console and timers go on while the gateway is down; WeChat reconnects; what queued meanwhile goes once."""
    gateway = Gateway()
    gateway.start()
    bot = Bot(gateway, wechat_settings(tmp_path), clock)
    await bot.start()
    try:
        await bot.online()
        gateway.kill()
        while bot.channel.online:
            await asyncio.sleep(0.05)

        # The console still files and answers, and the follow-up sweep still runs.
        bot.app.handle(group("#投诉 3号楼电梯坏了", "console-1"))
        await bot.app.drain()
        assert any("诉求#1" in m.text for m in bot.console.sent)
        assert bot.app.sweep() == 0
        with UnitOfWork(bot.app.db) as uow:
            waiting = list(uow.session.exec(select(Outbox).where(Outbox.channel == "wechat")))
        assert [row.chat_id for row in waiting] == [LI["id"]], "the grid member's notice waits for WeChat"
        assert await bot.app.drain("wechat") == 0

        gateway.start()
        await bot.online(20)
        clock.advance(timedelta(minutes=1))
        assert await bot.app.drain("wechat") == 1
        assert await bot.app.drain("wechat") == 0
        notices = [m for m in await gateway.sent_to(LI) if "诉求#1" in m["text"]]
        assert len(notices) == 1
    finally:
        await bot.channel.stop()
        bot.app.db.dispose()
        gateway.kill()


@pytest.mark.parametrize("case", ["wrong token", "no gateway"])
async def test_bad_gateway_is_reported_and_harms_nothing_else(case, gateway, tmp_path, clock, caplog):
    if case == "wrong token":
        bot = Bot(gateway, wechat_settings(tmp_path), clock, token="not-the-token", report_after=2, login_timeout=1)
    else:
        nobody = SimpleNamespace(endpoint=f"127.0.0.1:{free_port()}", token="x")
        bot = Bot(nobody, wechat_settings(tmp_path), clock, report_after=2, login_timeout=1)
    caplog.set_level(logging.WARNING, logger="bot.channels.wechat")
    await bot.start()
    try:
        async def reported() -> None:
            while not any("failed in a row" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.05)
        await asyncio.wait_for(reported(), PATIENCE)
        assert not bot.channel.online
        bot.app.handle(group("#投诉 3号楼电梯坏了", "console-1"))
        await bot.app.drain("console")
        assert any("诉求#1" in m.text for m in bot.console.sent), "the console works on"
    finally:
        await bot.channel.stop()
        bot.app.db.dispose()


async def test_a_picture_is_shown_on_the_request_page_and_a_voice_message_named(bot, gateway):
    await gateway.say(AUNT, "#投诉 3号楼楼道灯坏了一个星期", room=ROOM)
    await bot.step(1)
    await gateway.say(AUNT, "<img/>", room=ROOM, kind="image", image=PHOTO)
    await gateway.say(AUNT, "", room=ROOM, kind="voice")
    await gateway.say(LI, "网页")
    await bot.step(4)
    link = LINK.search((await gateway.wait_for(LI, "/signin/"))["text"]).group(0)
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web_app(bot.app)),
                            base_url="http://127.0.0.1:8080")
    assert (await web.post(urlsplit(link).path)).status_code == 303
    page = (await web.get("/requests/1")).text
    [address] = re.findall(r'<img src="(/requests/1/photos/\d+/0)"', page)
    assert "语音（请在微信里收听）" in page, "the voice message is named; the bot cannot play it"
    picture = await web.get(address)
    assert picture.status_code == 200 and picture.content == PHOTO and picture.headers["content-type"] == "image/jpeg"

    await bot.channel.stop()  # WeChat gone: what was fetched still shows; a fresh process shows the placeholder
    assert (await web.get(address)).content == PHOTO
    fresh = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_web_app(bot.app)), cookies=web.cookies,
                              base_url="http://127.0.0.1:8080")
    shown = await fresh.get(address)
    assert shown.status_code == 503 and "照片暂时无法显示" in shown.text


async def test_a_picture_and_a_voice_message_are_kept_with_the_report_not_dropped(bot, gateway):
    await gateway.say(AUNT, "#投诉 3号楼楼道灯坏了一个星期", room=ROOM)
    await bot.step(1)
    await gateway.say(AUNT, "<img/>", room=ROOM, kind="image")
    await gateway.say(AUNT, "", room=ROOM, kind="voice")
    await bot.step(3)
    with UnitOfWork(bot.app.db) as uow:
        kept = [a for e in uow.requests.timeline(1) if e.action == "detail" for a in e.data["attachments"]]
    assert [a.split(":")[1] for a in kept] == ["image", "voice"], "both in the report's timeline"
    told = await gateway.wait_for(ROOM, "语音已附在")
    assert told["mentionIds"] == [AUNT["id"]] and "诉求#1" in told["text"]

    await gateway.say(STRANGER, "", kind="voice")  # privately, with nothing reported: asked to type it
    await bot.step(4)
    assert "请用文字" in (await gateway.wait_for(STRANGER, "听不了语音"))["text"]
