"""Unit tests of the pure rules: state machine, deadlines, quiet hours, routing, commands, ratings, catalogs."""
from __future__ import annotations

import ast
import string
from datetime import timedelta

import pytest

from handlers import lifecycle
from handlers.catalog import Catalog
from handlers.commands import parse_command, parse_rating
from handlers.offer_words import parse_offer_answer
from handlers.deadlines import deadlines, quiet_until
from handlers.durations import parse_duration
from handlers.language import detect
from handlers.errors import IllegalTransition
from handlers.routing import route
from storage.models import Request
from tests.conftest import ROOT, local


def make(state: str) -> Request:
    return Request(id=7, kind="complaint", category="elevator", text="x", reporter_id=1, channel="console",
                   source_chat="g", state=state, respond_by=local(2026, 1, 1), resolve_by=local(2026, 1, 1))


@pytest.mark.parametrize("state,action,after", [
    ("new", "assign", "assigned"), ("assigned", "claim", "claimed"), ("claimed", "done", "done"),
    ("done", "satisfied", "closed"), ("done", "unsatisfied", "reopened"), ("reopened", "claim", "claimed"),
    ("claimed", "transfer", "assigned"), ("assigned", "merge", "merged"), ("claimed", "withdraw", "withdrawn"),
    ("claimed", "progress", "claimed"), ("done", "close_unrated", "closed"),
])
def test_allowed_transitions(state, action, after):
    request = make(state)
    lifecycle.apply(request, action, local(2026, 1, 2))
    assert request.state == after


@pytest.mark.parametrize("state,action", [
    ("closed", "done"), ("closed", "claim"), ("withdrawn", "progress"), ("assigned", "satisfied"),
    ("merged", "reject"), ("done", "claim"), ("rejected", "withdraw"), ("new", "progress"),
])
def test_illegal_transitions_change_nothing(state, action):
    request = make(state)
    with pytest.raises(IllegalTransition):
        lifecycle.apply(request, action, local(2026, 1, 2))
    assert request.state == state and request.responded_at is None


def test_claim_and_done_record_response_once():
    request = make("assigned")
    lifecycle.apply(request, "claim", local(2026, 1, 2, 9))
    lifecycle.apply(request, "done", local(2026, 1, 2, 15))
    assert request.responded_at == local(2026, 1, 2, 9) and request.done_at == local(2026, 1, 2, 15)


def test_deadlines_follow_category_and_urgency(settings):
    start = local(2026, 11, 23, 10)
    assert deadlines(settings.community, "elevator", False, start) == (start + timedelta(hours=1), start + timedelta(days=1))
    assert deadlines(settings.community, "elevator", True, start) == (start + timedelta(minutes=10), start + timedelta(hours=2))


def test_only_urgent_deadlines_run_through_the_night(settings):
    late = local(2026, 11, 23, 23, 30)
    assert deadlines(settings.community, "elevator", False, late) == (local(2026, 11, 24, 9), local(2026, 11, 25, 8))
    assert deadlines(settings.community, "elevator", True, late) == (late + timedelta(minutes=10), late + timedelta(hours=2))
    evening = local(2026, 11, 23, 21, 30)  # an hour from now is in the night: due when the morning starts
    assert deadlines(settings.community, "elevator", False, evening)[0] == local(2026, 11, 24, 8)


@pytest.mark.parametrize("at,until", [
    (local(2026, 11, 23, 23, 30), local(2026, 11, 24, 8)),
    (local(2026, 11, 24, 6, 0), local(2026, 11, 24, 8)),
    (local(2026, 11, 24, 22, 0), local(2026, 11, 25, 8)),
    (local(2026, 11, 24, 8, 0), None),
    (local(2026, 11, 24, 21, 59), None),
])
def test_quiet_hours(settings, at, until):
    assert quiet_until(settings.community, at) == until


def test_routing_by_building_category_and_kind(settings):
    c = settings.community
    assert route(c, "5", "elevator", "complaint").assignee == "zhang_wei"
    assert route(c, "2", "property", "complaint").inform == ("property_desk",)
    assert route(c, "2", "help", "wish").volunteers == ("chen_zhiyuan", "sun_li")
    assert route(c, "14", "elevator", "complaint").assignee == "wang_qiang", "unknown building → leader triages"
    assert route(c, None, "noise", "complaint", ("8",)).grid == "west"


@pytest.mark.parametrize("text,private,expected", [
    ("接单 37", False, ("claim", 37, "")),
    ("接单37", False, ("claim", 37, "")),
    ("办结 37 已更换灯泡，恢复照明", False, ("done", 37, "已更换灯泡，恢复照明")),
    ("/done 37 bulb replaced", False, ("done", 37, "bulb replaced")),
    ("转派 #12 张伟", True, ("transfer", 12, "张伟")),
    ("吹哨 5 需要街道协调", True, ("escalate", 5, "需要街道协调")),
    ("我的", True, ("mine", None, "")),
    ("/my", False, ("mine", None, "")),
    ("评价 3 满意", True, ("rate", 3, "满意")),
    ("接单 12345678", False, ("claim", 12345678, "")),
    ("接单 -1", True, ("claim", -1, "")),
    ("接单 1.5", True, ("claim", None, "1.5")),
    ("/bind 270815", True, ("bind", None, "270815")),  # a code of digits is a code, not a request number
    ("/bindchat 3", False, ("bindchat", None, "3")),
])
def test_commands(text, private, expected):
    cmd = parse_command(text, private=private)
    assert (cmd.verb, cmd.number, cmd.rest) == expected


@pytest.mark.parametrize("text", ["办结了吗？", "我的快递到了", "claimed it", "电梯坏了"])
def test_chatter_in_groups_is_not_a_command(text):
    assert parse_command(text, private=False) is None


@pytest.mark.parametrize("text,score", [
    ("5", 5), ("4分 很及时", 4), ("满意", 5), ("非常满意", 5), ("基本满意", 3), ("不满意 还是不亮", 1),
    ("很不满意", 1), ("satisfied", 5), ("not satisfied", 1), ("三星", 3), ("5 谢谢小李", 5), ("4！", 4),
    ("5 stars", 5),
])
def test_ratings(text, score):
    assert parse_rating(text)[0] == score


def test_not_ratings():
    assert parse_rating("502漏水") is None and parse_rating("10号楼") is None and parse_rating("6") is None
    for text in ("3号楼的楼道灯坏了", "5分钟前电梯又停了", "2.5", "2楼漏水"):
        assert parse_rating(text) is None, text
    assert parse_offer_answer("1") is True and parse_offer_answer("不用") is False
    assert parse_offer_answer("电梯坏了") is None
    # How people say yes and no in a group, each said in a first-time user's trial and ignored before
    for yes in ("嗯", "嗯嗯 要的", "要的", "对", "好滴", "可以", "麻烦了", "行", "中", "yes please", "好的 麻煩登記"):
        assert parse_offer_answer(yes) is True, yes
    for no in ("不用了", "不用了 谢谢", "no thanks", "不要了"):
        assert parse_offer_answer(no) is False, no
    for neither in ("可以吗", "不好", "要不要", "好冷啊", "一般", "3号楼"):
        assert parse_offer_answer(neither) is None, neither


@pytest.mark.parametrize("text,language", [
    ("3号楼电梯坏了", "zh-CN"), ("你好", "zh-CN"), ("Hello there, is anyone reading this?", "en"),
    ("thank you", None), ("'; DROP TABLE request;--", None), ("<b>x</b>", None), ("hello world", None),
    ("/my", None), ("满意", None), ("不满意", None), ("1", None), ("https://example.com/a/b/c", None),
    ("不满意 还是不亮", "zh-CN"), ("the lift in 3号楼 is broken", None),
])
def test_a_message_tells_its_language_only_when_it_clearly_is_one(text, language):
    assert detect(text) == language


def test_durations():
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    for bad in ("2 hours", "", "0m", "h"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_catalogs_have_the_same_keys_and_placeholders():
    catalog = Catalog.load()
    zh, en = catalog.texts["zh-CN"], catalog.texts["en"]
    assert set(zh) == set(en)
    fields = lambda t: {f for _, f, _, _ in string.Formatter().parse(t) if f}  # noqa: E731
    assert {k for k in zh if fields(zh[k]) != fields(en[k])} == set()


def test_every_text_the_handlers_name_is_in_the_catalog():
    """A key missing from the catalog would fail only when that reply is due; find it here instead."""
    keys = set(Catalog.load().texts["zh-CN"])
    groups = {key.split(".")[0] for key in keys}
    missing = []
    for path in (ROOT / "handlers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            name = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
            if "." not in name or " " in name or name.split(".")[0] not in groups:
                continue
            # An f-string key such as f"error.note_missing.{cmd.verb}" shows up as its constant prefix.
            if not (name in keys or name.endswith(".") and any(key.startswith(name) for key in keys)):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert missing == []
