"""What staff and residents are told as a request moves after it was filed: handed on, passed up, reopened,
withdrawn, late; and how the work lists are ordered."""
from __future__ import annotations

from storage.uow import UnitOfWork
from tests.conftest import Console

LEAK = "/in 3号楼业主群\n#报修 3号楼2单元楼上漏水很急，水都漫到电闸了\n/as 张三\n#报修 3号楼2单元楼上漏水我家也被淹了\n"


def test_a_transferred_urgent_request_tells_its_new_assignee_the_urgency_the_deadlines_and_the_neighbours(console):
    sent = console.run(LEAK + "/as 李建国\n/in 私聊\n转派 1 张伟\n/advance 20m")
    notice, escalated = console.seen_by("张伟", sent)
    assert notice.startswith("李建国 把 ⚠️ 紧急 诉求#1（水管·3号楼2单元）转派给您")
    assert "另有 1 位邻居也反映了此问题" in notice and "时限：11-23 10:15 前接单，11-23 14:00 前办结。" in notice
    assert escalated.startswith("⚠️ 紧急 诉求#1（水管·3号楼2单元）超过响应时限无人接单，已上报给网格长王强"
                                "（接单已超时不到 1 小时，11-23 14:00 前办结）。")
    leader = next(t for t in console.seen_by("王强", sent) if t.startswith("⬆️"))
    assert leader.startswith("⬆️ ⚠️ 紧急 诉求#1") and "另有 1 位邻居也反映了此问题" in leader
    sent = console.run("/as 王阿姨\n/in 私聊\n补充 1 水已经漫到楼道了\n/advance 30m")
    assert [t for t in console.seen_by("张伟", sent) if "水已经漫到楼道了" in t][0].startswith("⚠️ 紧急 诉求#1")


def test_a_deadline_gone_by_is_said_to_be_overdue_never_shown_as_if_still_ahead(console):
    console.run(LEAK + "/as Tom\n/in 私聊\nlanguage English\n#repair building 5 the heating is off\n/advance 5h")
    sent = console.run("/as 李建国\n/in 私聊\n接单 1\n我的\n详情 1\n/as 王阿姨\n/in 私聊\n我的诉求\n/as Tom\n/my")
    assert console.seen_by("李建国", sent)[0] == "已接单 ⚠️ 紧急 诉求#1（水管·3号楼2单元），办结已超时 1 小时。"
    assert "⚠️紧急 #1 水管·3号楼2单元·处理中·办结已超时 1 小时" in console.seen_by("李建国", sent)[1]
    assert "办结时限 11-23 14:00（办结已超时 1 小时）" in console.seen_by("李建国", sent)[2]
    assert "⚠️紧急 #1 水管·3号楼2单元·处理中·办结已超时 1 小时" in console.seen_by("王阿姨", sent)[-1]
    assert "claim 3 h overdue" in console.seen_by("Tom", sent)[0] and "claim by" not in console.seen_by("Tom", sent)[0]


def test_lateness_is_rounded_down_and_a_jump_past_two_rungs_is_one_notice(console):
    console.run(LEAK)  # urgent: claim by 10:15, resolve by 14:00
    sent = console.run("/advance 5h")
    member = console.seen_by("李建国", sent)
    assert member == ["⚠️ 紧急 诉求#1（水管·3号楼2单元）超过响应时限无人接单，已上报给网格长王强和书记赵红梅"
                      "（接单已超时 4 小时，办结已超时 1 小时）。仍请您尽快接单：回复「接单 1」。"]
    assert len([t for t in console.seen_by("王阿姨", sent) if "已上报" in t]) == 1
    assert any("已上报到您" in t for t in console.seen_by("王强", sent))
    assert any("已上报到您" in t for t in console.seen_by("赵书记", sent))
    sent = console.run("/advance 7d14h\n/as 赵书记\n/in 私聊\n超时")  # 7 days 18 hours after 10:15
    assert "接单已超时 7 天" in console.seen_by("赵书记", sent)[-1]


def test_a_reopened_request_tells_each_only_what_happened_and_is_chased_like_a_new_one(console):
    console.run(LEAK + "/advance 5h")  # late twice: already at the secretary
    sent = console.run("/as 李建国\n/in 私聊\n接单 1\n办结 1 修好了\n/as 王阿姨\n/in 私聊\n不满意")
    assert console.seen_by("王阿姨", sent)[-1].startswith(
        "抱歉没能让您满意，诉求#1 已重新打开，已重新交给网格员李建国（电话 13800000001），会尽快再处理。")
    assert console.seen_by("李建国", sent)[-1].startswith("⚠️ 紧急 诉求#1 居民不满意（1 分），已重新打开。")
    assert not console.seen_by("王强", sent) and not console.seen_by("赵书记", sent)
    assert console.seen_by("张三", sent)[-1] == (
        "诉求#1（水管）反映人不满意，已重新打开继续处理，暂不需要您评价；再次办结后会请您评价。")
    sent = console.run("/advance 3h40m")  # reopened at 15:00, resolve by 19:00: reminded at 18:30
    assert console.seen_by("李建国", sent) == [
        "⏰ 提醒：⚠️ 紧急 诉求#1（水管·3号楼2单元）请在 11-23 19:00 前办结。回复「办结 1 说明」。"]
    sent = console.run("/advance 1h")
    assert console.seen_by("李建国", sent) == [
        "⚠️ 紧急 诉求#1（水管·3号楼2单元）超过办结时限未办结（办结已超时不到 1 小时），已由书记赵红梅督办。"
        "仍请您尽快办结：回复「办结 1 说明」。"]


def test_a_reopening_below_the_top_says_whom_it_went_to(console):
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管")
    sent = console.run("/as 王阿姨\n/in 私聊\n不满意 还是不亮")
    assert console.seen_by("王阿姨", sent) == ["抱歉没能让您满意，诉求#1 已重新打开，已上报网格长王强督办，会尽快再处理。"]
    assert console.seen_by("李建国", sent)[0].startswith("诉求#1 居民不满意（1 分），已重新打开并上报网格长王强。")


def test_a_work_list_shows_urgent_first_then_the_longest_overdue_then_the_newest(console):
    console.run("#微心愿 3号楼2单元想请人帮忙换灯泡\n/advance 1d2h")  # #1: a wish, claim overdue since 11-24 10:00
    console.run("#投诉 3号楼2单元楼道垃圾没人清\n/advance 5h")  # #2: claim by 16:00, an hour late
    console.run("#投诉 3号楼门口路灯不亮")  # #3: claim by 19:00
    console.run("#报修 3号楼电梯困人了，有人被困在里面")  # #4: urgent, due in minutes
    sent = console.run("/as 李建国\n/in 私聊\n我的\n/as 赵书记\n/in 私聊\n我的\n超时")
    lines = console.seen_by("李建国", sent)[0].splitlines()[1:]
    assert [x.split("#")[1].split()[0] for x in lines] == ["4", "1", "2", "3"], lines
    assert lines[0].startswith("⚠️紧急 #4 ")
    secretary = [x for x in console.seen_by("赵书记", sent)[0].splitlines()[1:] if "#" in x]
    overdue = [x.strip() for x in console.seen_by("赵书记", sent)[1].splitlines()[1:]]
    assert [x for x in secretary if "已超时" in x] == [x for x in overdue if "已超时" in x]


def test_a_withdrawal_leaves_the_neighbours_problem_open_with_him_as_its_reporter(console):
    console.run("/in 3号楼业主群\n#报修 3号楼2单元502楼上漏水\n/as 李四\n+1 我家也是，厨房顶在滴水")
    sent = console.run("/as 王阿姨\n/in 私聊\n撤回 1\n/as 李四\n/in 私聊\n我的诉求\n详情 1")
    assert console.seen_by("王阿姨", sent) == ["已撤回您的反映。还有邻居反映了同样的问题，诉求#1 会继续处理，不再通知您。"]
    assert console.seen_by("李建国", sent) == [
        "诉求#1（水管·3号楼2单元）原反映人已撤回，但共有 1 位邻居反映了同样的问题，请继续处理。现在的反映人：李四。"]
    told, mine, detail = console.seen_by("李四", sent)
    assert told.startswith("诉求#1（水管）最初的反映人已撤回，您也反映过这个问题，会继续由网格员李建国")
    assert "待接单" in mine and "已撤回" not in mine
    assert "内容：+1 我家也是，厨房顶在滴水" in detail and "502" not in detail and "王阿姨" not in detail
    with UnitOfWork(console.app.db) as uow:
        assert uow.requests.get(1).state == "assigned"
