"""Who may see and do what: details, each role's work list, binding accounts and chats."""
from __future__ import annotations

from storage.uow import UnitOfWork

REFUSED = "抱歉，只有 诉求#1 的负责人、网格长或书记可以这样操作。"


def test_the_grid_member_sees_the_details_of_a_wish_in_his_grid_a_volunteer_claimed(console):
    console.run("#微心愿 我是3号楼独居老人，想请人帮忙换一下厨房的灯泡")
    sent = console.run("/as 陈志远\n/in 私聊\n详情 1")  # offered to him: he may look before he claims
    assert console.seen_by("陈志远", sent)[0].startswith("诉求#1 微心愿·生活帮扶·3号楼")
    console.run("/as 孙丽\n接单 1")
    sent = console.run("/as 李建国\n详情 1\n/as 张伟\n详情 1\n/as 陈志远\n详情 1")
    shown = console.seen_by("李建国", sent)
    assert len(shown) == 1 and shown[0].startswith("诉求#1 微心愿·生活帮扶·3号楼") and "孙丽" in shown[0]
    assert console.seen_by("张伟", sent) == [REFUSED]  # another grid's member
    assert console.seen_by("陈志远", sent) == [REFUSED]  # taken by another volunteer: no longer his to read


def test_the_leader_and_the_secretary_each_have_a_list_of_what_waits_for_them(console):
    console.run("#投诉 3号楼电梯坏了\n/in 幸福里大群\n#投诉 水管漏水了")  # #2 has no place yet
    console.run("/advance 61m")  # #1 unclaimed past its respond-by: escalated to the leader
    sent = console.run("/as 王强\n/in 私聊\n我的")
    [leader] = console.seen_by("王强", sent)
    assert leader.startswith("待我处理（2，含上报到我这一级的和位置待确认的）：\n⚠️ #1 电梯·3号楼")
    assert "\n#2 " in leader
    sent = console.run("/as 赵书记\n我的")
    [secretary] = console.seen_by("赵书记", sent)
    # Nothing has reached her rung yet, but #1 is overdue in the community: hers to see.
    assert secretary.startswith("待我处理（1，含上报到我这一级的和全社区超时的）：\n⚠️ #1 电梯·3号楼")
    console.run("/advance 1d")  # escalated again, to her
    with UnitOfWork(console.app.db) as uow:
        assert uow.requests.get(1).level == 2
    sent = console.run("/as 赵书记\n我的")
    assert console.seen_by("赵书记", sent)[0].count("\n⚠️ #") == 2  # #2 is overdue by now too


def test_a_long_work_list_shows_ten_overdue_first_then_newest_and_pages_on(console):
    places = ["1号楼", "2号楼", "3号楼"]
    problems = ["电梯坏了", "水管漏水", "楼道灯不亮", "暖气不热"]
    console.run("\n".join(f"#投诉 {p}{q}" for p in places for q in problems))
    with UnitOfWork(console.app.db) as uow:
        assert uow.requests.get(12) is not None and uow.requests.get(13) is None
    console.run("/as 李建国\n/in 私聊\n" + "\n".join(f"接单 {n}" for n in range(2, 13)))
    console.run("/advance 70m")  # #1, never claimed, is past its respond-by
    sent = console.run("我的")
    [page_one] = console.seen_by("李建国", sent)
    lines = page_one.split("\n")
    assert lines[0] == "待我处理（12）："
    assert lines[1].startswith("⚠️ #1 ") and [x.split()[0] for x in lines[2:11]] == [f"#{n}" for n in range(12, 3, -1)]
    assert lines[-1] == "更多：我的 2"
    sent = console.run("我的 2")
    assert console.seen_by("李建国", sent)[0].split("\n") == [
        "待我处理（12）：", "#3 电力照明·1号楼·处理中·11-25 10:00 前办结", "#2 水管·1号楼·处理中·11-25 10:00 前办结"]
