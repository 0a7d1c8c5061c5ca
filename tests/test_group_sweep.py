"""The privacy sweep itself: it sees what a group is sent in every test, and it catches a leak."""
from __future__ import annotations

import asyncio

from handlers.messages import Outbound
from tests.group_sweep import Known, leaks

KNOWN = Known(names={"刘奶奶"}, words={"#投诉 楼上天天半夜拖椅子，我是402的，别说是我反映的"}, flats={"402"},
              own_flats={"301"})


def test_the_checker_finds_each_kind_of_personal_data():
    assert leaks("@王阿姨 收到，已登记为 诉求#1（电梯·3号楼2单元），由网格员负责，11-23 11:00 前响应。", KNOWN) == []
    assert leaks("您的 301室 的诉求已登记", KNOWN) == []  # the addressee's own flat
    assert leaks("网格员电话 13800000001", KNOWN) == ["phone number 13800000001"]
    assert leaks("物业 010-60000000", KNOWN) == ["phone number 010-60000000"]
    assert leaks("诉求#2 在 402 户", KNOWN) == ["flat 402"]
    assert leaks("1203室 又漏水了", KNOWN) == ["flat 1203"]
    assert leaks("刘奶奶 也反映了", KNOWN) == ["resident's name 刘奶奶"]
    assert leaks("有人说楼上天天半夜拖椅子", KNOWN) == [
        "resident's words '楼上天天半夜拖椅子，我是402的，别说是我反映的'"]
    english = Known(words={"#complaint The elevator in building 3 has been broken since Monday"})
    assert leaks("Filed as request #1 (lift, building 3).", english) == []
    assert leaks("Neighbours say it has been broken since Monday", english) != []


def test_a_group_message_that_leaks_fails_the_test_it_is_sent_in(console, group_sweep):
    console.run("#投诉 楼上天天半夜拖椅子，我是402的 电话18612345678，别说是我反映的")
    assert "诉求#1" in console.in_chat("3号楼业主群")[0] and group_sweep.leaks == []  # the real ack is clean
    leak = Outbound(channel="console", chat_id="3号楼业主群", text="王阿姨（402，18612345678）说：楼上天天半夜拖椅子")
    asyncio.run(console.channel.send(leak))
    assert len(group_sweep.leaks) == 1
    for found in ("phone number 18612345678", "flat 402", "resident's name 王阿姨", "resident's words"):
        assert found in group_sweep.leaks[0]
    private = Outbound(channel="console", chat_id="@李建国", text=leak.text)  # staff, in private: as it should be
    asyncio.run(console.channel.send(private))
    assert len(group_sweep.leaks) == 1
    group_sweep.leaks.clear()  # caught: the sweep would fail this test at teardown
