"""Lists that page: a resident's 我的诉求 and the escalation ladder's 超时, ten a page, with the command for more."""
from __future__ import annotations

PLACES = ["1号楼", "2号楼", "3号楼"]
PROBLEMS = ["电梯坏了", "水管漏水", "楼道灯不亮", "暖气不热"]  # lift: claim within 1 h; the others within 2 h


def file_twelve(console) -> None:
    console.run("\n".join(f"#投诉 {p}{q}" for p in PLACES for q in PROBLEMS))


def test_a_residents_long_list_shows_ten_overdue_first_then_newest_and_pages_on(console):
    file_twelve(console)
    console.run("/as 李建国\n/in 私聊\n" + "\n".join(f"接单 {n}" for n in range(2, 13)))
    console.run("/advance 70m")  # #1, never claimed, is past its respond-by
    sent = console.run("/as 王阿姨\n/in 私聊\n我的诉求")
    lines = console.seen_by("王阿姨", sent)[0].split("\n")
    assert lines[0] == "我的诉求：12 件"
    assert lines[1].startswith("⚠️ #1 电梯·1号楼") and [x.split()[0] for x in lines[2:11]] == [
        f"#{n}" for n in range(12, 3, -1)]
    assert lines[-1] == "更多：我的诉求 2"
    page_two = console.seen_by("王阿姨", console.run("我的诉求 2"))[0].split("\n")
    assert page_two == [page_two[0], *page_two[1:3]] and [x.split()[0] for x in page_two[1:]] == ["#3", "#2"]
    assert page_two[0] == "我的诉求：12 件"


def test_the_secretary_asks_for_the_digest_before_its_morning_and_a_grid_member_may_not(console):
    file_twelve(console)
    sent = console.run("/as 赵书记\n/in 私聊\n日报")
    [digest] = console.seen_by("赵书记", sent)
    assert digest.startswith("📋 幸福里社区 日报") and "在办 12 件" in digest
    assert console.seen_by("赵书记", console.run("/digest"))[0] == digest
    refused = console.seen_by("李建国", console.run("/as 李建国\n日报"))
    assert refused == ["抱歉，日报只发给网格长、书记和上报链上的负责人。"]
    grouped = console.run("/as 王强\n/in 3号楼业主群\n/digest")
    assert console.in_chat("3号楼业主群", grouped) == ["日报已私信发给您。"], "residents' requests stay private"
    assert console.seen_by("王强", grouped)[0].startswith("📋 幸福里社区 日报")


def test_the_secretary_pages_through_every_overdue_request_and_a_grid_member_may_not(console):
    file_twelve(console)
    console.run("/advance 5h")  # nobody claimed anything: all twelve are past their respond-by
    sent = console.run("/as 赵书记\n/in 私聊\n超时")
    lines = console.seen_by("赵书记", sent)[0].split("\n")
    assert lines[0] == "超时诉求：12 件（超时最久的在前）"
    assert [x.split()[1] for x in lines[1:4]] == ["#1", "#5", "#9"], "the lifts were due first"
    assert all("已超时 " in x for x in lines[1:11]) and len(lines) == 12 and lines[-1] == "更多：超时 2"
    page_two = console.seen_by("赵书记", console.run("超时 2"))[0].split("\n")
    assert page_two[0] == lines[0] and len(page_two) == 3 and "更多" not in page_two[-1]
    assert console.seen_by("赵书记", console.run("超时 5"))[0].split("\n") == [lines[0], "没有第 5 页了，一共 2 页。"]
    english = console.seen_by("赵书记", console.run("语言 English\n/overdue"))[-1].split("\n")
    assert english[0] == "Overdue: 12 (longest overdue first)" and english[-1] == "More: overdue 2"
    refused = console.seen_by("李建国", console.run("/as 李建国\n超时"))
    assert refused == ["抱歉，全社区的超时清单只有网格长、书记和上报链上的负责人可以查看。"]
    grouped = console.run("/as 王强\n/in 3号楼业主群\n/overdue")
    assert console.in_chat("3号楼业主群", grouped) == ["超时清单（12 件）已私信发给您。"]
    assert console.seen_by("王强", grouped)[0].startswith("超时诉求：12 件")
