"""The Open311 GeoReport v2 API, driven over real ASGI (httpx) on a bot with the console channel; every response
is checked against the official GeoReport v2 JSON schemas shipped in tests/open311_schemas."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4
from sqlalchemy import text

from bot.settings import Open311Client, Open311Settings
from bot.web.server import create_web_app
from tests.conftest import Console, fresh_postgres, local, pg_available

KEY = "hotline-key-0123456789"
SCHEMAS = Path(__file__).with_name("open311_schemas")
# Planted in reports: none of it may appear in anything the API publishes.
NAME, PHONE, FLAT, WORDS = "王秀英", "13912345678", "502", "楼道灯一闪一闪吓人"


def _validator(name: str) -> Draft4Validator:
    """A validator for one schema, its $refs (service.json, request.json) resolved among the shipped files."""
    load = lambda f: json.loads((SCHEMAS / f).read_text("utf-8"))  # noqa: E731
    registry = Registry().with_resources(
        (f, DRAFT4.create_resource(load(f))) for f in ("service.json", "request.json"))
    return Draft4Validator(load(name), registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


VALID = {name: _validator(name) for name in ("services.json", "requests.json")}


def valid(response: httpx.Response, schema: str) -> list[dict]:
    """The response's JSON, after checking it is a 200 that the schema accepts (date-time formats included)."""
    assert response.status_code == 200, response.text
    body = response.json()
    VALID[schema].validate(body)
    return body


def refused(response: httpx.Response, code: int) -> str:
    """The description of a spec-shaped error array with this code."""
    assert response.status_code == code, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == code
    return body[0]["description"]


@pytest.fixture
def bot(settings, clock):
    keys = Open311Settings(jurisdiction_id="xingfuli", api_keys=[Open311Client(client="市民热线", key=KEY)])
    harness = Console(settings.model_copy(update={"open311": keys}), clock)
    yield harness
    harness.app.db.dispose()


@pytest.fixture
async def api(bot):
    web = create_web_app(bot.app)  # the workbench serves the API: its errors must stay the spec's JSON
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://doorstep.test") as client:
        yield client


async def chat(bot: Console, script: str) -> None:
    """Play console lines inside the test's event loop."""
    await bot.session.run(script.strip().splitlines())


async def post(api: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await api.post("/open311/v2/requests.json", data={"api_key": KEY, **form})


def counts(bot: Console) -> tuple[int, int]:
    """Requests and outbox rows stored."""
    with bot.app.db.engine.connect() as connection:
        return (connection.execute(text("select count(*) from request")).scalar(),
                connection.execute(text("select count(*) from outbox")).scalar())


async def test_services_are_the_community_categories(api, bot):
    services = valid(await api.get("/open311/v2/services.json"), "services.json")
    assert [s["service_code"] for s in services] == list(bot.settings.community.categories)
    elevator = services[0]
    assert (elevator["service_name"], elevator["group"], elevator["metadata"], elevator["type"]) == (
        "电梯", "设施维修", False, "realtime")
    assert elevator["description"] == "电梯停运、困人、异响（1h 内响应，1d 内办结）"
    assert refused(await api.get("/open311/v2/services.json?jurisdiction_id=elsewhere"), 404) == (
        "没有这个 jurisdiction_id：'elsewhere'")


async def test_a_chat_report_is_published_to_the_unit_without_personal_data(api, bot, clock):
    await chat(bot, f"/as {NAME}\n#投诉 3号楼2单元{FLAT}室门口{WORDS}，电话{PHONE}")
    listed = valid(await api.get("/open311/v2/requests.json"), "requests.json")
    one = valid(await api.get("/open311/v2/requests/1.json"), "requests.json")
    assert listed == one
    assert one[0] | {"updated_datetime": None} == {
        "service_request_id": "1", "status": "open", "status_notes": "已分派，等待接单。",
        "service_name": "电力照明", "service_code": "electricity", "description": None,
        "agency_responsible": "东区网格", "service_notice": None,
        "requested_datetime": "2026-11-23T10:00:00+08:00", "updated_datetime": None,
        "expected_datetime": "2026-11-25T10:00:00+08:00",  # the resolve-by: electricity, 2 days
        "address": "3号楼2单元", "address_id": "3", "zipcode": None, "lat": None, "long": None, "media_url": None}
    for response in (listed, one):
        published = json.dumps(response, ensure_ascii=False)
        for private in (NAME, PHONE, FLAT, WORDS, "楼道灯"):
            assert private not in published


async def test_status_notes_follow_the_request_and_done_is_closed(api, bot, clock):
    await chat(bot, "#投诉 3号楼电梯坏了\n#投诉 5号楼2单元 水管漏水\n/as 李建国\n/in 私聊\n接单 1")
    clock.advance(timedelta(hours=1))
    await chat(bot, "办结 1 已修好，王阿姨家 13800001111 已回访")
    rows = {r["service_request_id"]: r for r in valid(await api.get("/open311/v2/requests.json"), "requests.json")}
    assert (rows["1"]["status"], rows["1"]["status_notes"]) == ("closed", "已办结，等待居民评价。")
    assert rows["1"]["updated_datetime"] == "2026-11-23T11:00:00+08:00"
    assert (rows["2"]["status"], rows["2"]["agency_responsible"]) == ("open", "中区网格")
    assert "13800001111" not in json.dumps(rows, ensure_ascii=False)  # a staff note is never published
    clock.advance(timedelta(hours=2))  # nobody took 5号楼's plumbing by its respond-by: escalated to the leader
    bot.app.sweep()
    two = valid(await api.get("/open311/v2/requests/2.json"), "requests.json")[0]
    assert two["status_notes"] == "已分派，等待接单。已上报网格长。"


async def test_filters_by_number_code_status_and_time(api, bot, clock):
    await chat(bot, "#投诉 3号楼电梯坏了")                                             # 1, 2026-11-23 10:00
    clock.advance(timedelta(days=1))
    await chat(bot, "#投诉 3号楼2单元 水管漏水\n/as 李建国\n/in 私聊\n办结 2 修好了")  # 2, done: closed
    clock.advance(timedelta(days=100))
    await chat(bot, "/as 王阿姨\n/in 3号楼业主群\n#投诉 3号楼垃圾没人清运")          # 3, 100 days later

    async def ids(query: str = "") -> list[str]:
        body = valid(await api.get(f"/open311/v2/requests.json{query}"), "requests.json")
        return [r["service_request_id"] for r in body]

    assert await ids() == ["3"]  # the last 90 days by default
    assert await ids("?start_date=2026-11-01T00:00:00Z") == ["3", "2", "1"]
    assert await ids("?start_date=2026-11-23T00:00:00%2B08:00&end_date=2026-11-23T23:59:59%2B08:00") == ["1"]
    assert await ids("?start_date=2026-11-23T00:00:00+08:00&end_date=2026-11-23T23:59:59+08:00") == ["1"]
    assert await ids("?start_date=2026-11-01&status=closed") == ["2"]
    assert await ids("?start_date=2026-11-01&status=open") == ["3", "1"]
    assert await ids("?start_date=2026-11-01&status=open,closed&service_code=elevator,plumbing") == ["2", "1"]
    assert await ids("?start_date=2026-11-01&service_code=sanitation&service_code=elevator") == ["3", "1"]
    # A list of numbers overrides every other filter; numbers nobody has are left out.
    assert await ids("?service_request_id=1,3,99&status=closed&start_date=2030-01-01") == ["3", "1"]
    assert refused(await api.get("/open311/v2/requests.json?status=pending"), 400) == (
        "status 只能是 open 或 closed：'pending'")
    assert refused(await api.get("/open311/v2/requests.json?start_date=yesterday"), 400) == (
        "start_date 不是带时区的 ISO 8601 时间：'yesterday'")
    assert "晚于" in refused(await api.get(
        "/open311/v2/requests.json?start_date=2026-11-24T00:00:00Z&end_date=2026-11-23T00:00:00Z"), 400)
    assert "service_code" in refused(await api.get("/open311/v2/requests.json?service_code=potholes"), 400)
    assert "service_request_id" in refused(await api.get("/open311/v2/requests.json?service_request_id=1,x"), 400)


async def test_unknown_request_is_404(api, bot):
    await chat(bot, "#投诉 3号楼电梯坏了")
    for number in ("2", "0", "99999999999", "abc", "²"):
        assert refused(await api.get(f"/open311/v2/requests/{number}.json"), 404) == f"没有诉求 {number}"


async def test_a_client_files_like_a_resident_and_the_grid_member_hears_of_it(api, bot):
    response = await post(api, service_code="electricity", address_string=f"3号楼2单元{FLAT}室",
                          description=f"{WORDS}，老人晚上不敢出门", last_name="王", first_name="秀英",
                          phone=PHONE, jurisdiction_id="xingfuli")
    assert response.status_code == 200, response.text
    assert not any(private in response.text for private in (NAME, PHONE, FLAT, WORDS))
    assert response.json() == [{"service_request_id": "1", "service_notice": (
        "收到，已登记为 诉求#1（电力照明·3号楼2单元），由网格员李建国（电话 13800000001）负责，11-23 12:00 前响应。"
        "进展会私信告诉您。")}]
    await bot.app.sender.idle()
    await bot.app.drain("console")
    notice = bot.seen_by("李建国")
    assert len(notice) == 1 and "诉求#1" in notice[0]
    assert WORDS in notice[0] and f"联系人：王秀英 {PHONE}" in notice[0], "the grid member gets what he needs"
    assert "市民热线" in notice[0]  # the reporter is the client
    published = valid(await api.get("/open311/v2/requests/1.json"), "requests.json")
    assert (published[0]["address"], published[0]["service_code"]) == ("3号楼2单元", "electricity")
    text_of_all = json.dumps(valid(await api.get("/open311/v2/requests.json"), "requests.json"), ensure_ascii=False)
    for private in (NAME, PHONE, FLAT, WORDS, "老人"):
        assert private not in text_of_all
    # Nothing waits on a channel no one runs: the client's reply went out in its response.
    with bot.app.db.engine.connect() as connection:
        assert connection.execute(text("select count(*) from outbox where status = 'pending'")).scalar() == 0


async def test_the_same_problem_filed_again_is_joined(api, bot):
    await chat(bot, "#投诉 3号楼电梯坏了")
    first = (await post(api, service_code="elevator", address_id="3", description="电梯停了")).json()
    assert first[0]["service_request_id"] == "1", "a neighbour's open report of it is followed"
    assert first[0]["service_notice"].startswith("已有同类诉求#1正在处理")
    own = (await post(api, service_code="plumbing", address_id="5", description="水管漏水")).json()
    again = (await post(api, service_code="plumbing", address_id="5", description="水管还在漏")).json()
    assert own[0]["service_request_id"] == again[0]["service_request_id"] == "2"
    assert again[0]["service_notice"].startswith("您已反映过这个问题（诉求#2")
    assert counts(bot)[0] == 2


async def test_an_emergency_filed_by_a_client_is_urgent(api, bot):
    response = await post(api, service_code="elevator", address_string="5号楼", description="电梯里有人被困了")
    notice = response.json()[0]["service_notice"]
    assert notice.startswith("🚨 请立即拨打 119 或 96333") and "\n⚠️ 紧急 诉求#1" in notice
    await bot.app.sender.idle()
    await bot.app.drain("console")
    assert any("紧急" in t for t in bot.seen_by("张伟")) and any("紧急" in t for t in bot.seen_by("王强"))


REFUSALS = [
    ({"api_key": ""}, 403, "缺少 api_key，或 api_key 无效"),
    ({"api_key": "guessed-key-0123456789"}, 403, "缺少 api_key，或 api_key 无效"),
    ({"jurisdiction_id": "elsewhere"}, 404, "没有这个 jurisdiction_id：'elsewhere'"),
    ({"service_code": "potholes"}, 400, "service_code 缺失或无效：'potholes'"),
    ({"service_code": ""}, 400, "service_code 缺失或无效：''"),
    ({"address_id": "", "address_string": ""}, 400, "请给出位置：address_id、address_string 或 lat/long"),
    ({"address_id": "", "lat": "north", "long": "116.4"}, 400, "请给出位置：address_id、address_string 或 lat/long"),
    ({"address_id": "99"}, 400, "本社区没有 99号楼"),
    ({"address_id": "", "address_string": "99号楼"}, 400, "本社区没有 99号楼"),
    ({"description": "灯" * 4001}, 400, "description 太长（最多 4000 个字符）"),
]


async def test_a_refused_post_files_nothing(api, bot):
    for form, code, says in REFUSALS:  # one bot for all: each case must leave it as empty as it found it
        fields = {"api_key": KEY, "service_code": "electricity", "address_id": "3", "description": "楼道灯坏了", **form}
        response = await api.post("/open311/v2/requests.json", data=fields)
        assert (response.status_code, refused(response, code)) == (code, says), form
        assert counts(bot) == (0, 0), form
    json_body = await api.post("/open311/v2/requests.json", json={"api_key": KEY, "service_code": "elevator"})
    assert refused(json_body, 403), "the spec's POST is form-encoded; a JSON body carries no key"


async def test_coordinates_alone_are_a_location_for_the_leader_to_place(api, bot):
    response = await post(api, service_code="safety", lat="39.9", long="116.4", description="小区门口井盖丢了")
    assert response.status_code == 200, response.text
    assert "请直接回复在哪里" in response.json()[0]["service_notice"]
    row = valid(await api.get("/open311/v2/requests/1.json"), "requests.json")[0]
    assert (row["address"], row["agency_responsible"]) == (None, "幸福里社区")


async def test_a_neighbour_dispute_is_published_with_the_building_only(api, bot):
    await post(api, service_code="neighbor", address_string="8号楼3单元", description="楼上天天半夜装修")
    row = valid(await api.get("/open311/v2/requests/1.json"), "requests.json")[0]
    assert row["address"] == "8号楼"


async def test_a_failure_is_a_500_array_without_details_and_logged(api, bot, caplog):
    await chat(bot, f"/as {NAME}\n#投诉 3号楼电梯坏了，电话{PHONE}")
    with bot.app.db.engine.begin() as connection:  # the database loses the table under the running API
        connection.execute(text("alter table request rename to request_gone"))
    response = await api.get("/open311/v2/requests.json?service_code=elevator")
    assert refused(response, 500) == "服务器出错，请稍后再试"
    assert "Open311 request failed: GET /open311/v2/requests.json" in caplog.text
    assert PHONE not in response.text and "request_gone" not in response.text


def test_keys_come_from_the_environment_and_config_names_a_bad_one(tmp_path):
    from bot.settings import ConfigError, Settings
    shipped = Path(__file__).resolve().parents[1] / "config.yaml"
    settings = Settings.load(shipped, env={"OPEN311_KEY_HOTLINE": KEY})
    assert settings.open311.clients(settings.env) == {KEY: "市民热线"}
    assert Settings.load(shipped, env={}).open311.clients({}) == {}, "no variable, no key"
    bad = tmp_path / "config.yaml"
    bad.write_text(shipped.read_text("utf-8").replace(
        "{client: 市民热线, key_env: OPEN311_KEY_HOTLINE}", "{client: 市民热线, key: short}"), "utf-8")
    with pytest.raises(ConfigError) as raised:
        Settings.load(bad, env={})
    assert raised.value.problems == ["open311.api_keys[0].key：太短了（至少 16 个字符）"]


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason="PostgreSQL not reachable")
async def test_filing_and_reading_on_postgres(settings, clock):
    keys = Open311Settings(api_keys=[Open311Client(client="市民热线", key=KEY)])
    bot = Console(fresh_postgres(settings).model_copy(update={"open311": keys}), clock)
    web = create_web_app(bot.app)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://pg.test") as api:
            await chat(bot, "#投诉 3号楼电梯坏了")
            filed = (await post(api, service_code="plumbing", address_id="5", description="水管漏水")).json()
            assert filed[0]["service_request_id"] == "2"
            rows = valid(await api.get("/open311/v2/requests.json?status=open&service_request_id=1,2"),
                         "requests.json")
            assert [(r["service_request_id"], r["address"]) for r in rows] == [("2", "5号楼"), ("1", "3号楼")]
            assert rows[1]["requested_datetime"] == local(2026, 11, 23, 10, 0).isoformat()
            await bot.app.sender.idle()
            await bot.app.drain("console")
            assert any("诉求#2" in t for t in bot.seen_by("张伟"))
    finally:
        bot.app.db.dispose()

