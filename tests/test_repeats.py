"""Repeats and duplicates: what is linked as one problem, and what the grid member hears of what residents add."""
from __future__ import annotations

from storage.models import Request
from storage.uow import UnitOfWork


def request(console, number: int) -> Request | None:
    with UnitOfWork(console.app.db) as uow:
        return uow.requests.get(number)


def test_micro_wishes_are_personal_and_never_linked(console):
    console.run("#微心愿 3号楼想请人帮忙换个灯泡")
    sent = console.run("/as 李大爷\n#微心愿 3号楼想请人帮忙取快递")
    assert console.in_chat("3号楼业主群", sent)[0].startswith("收到您的微心愿，已登记为 微心愿#2")
    assert not any("灯泡" in text for text in console.seen_by("李大爷", sent))
    # Nor is a complaint linked to someone's wish about the same thing, or a wish to an open complaint.
    sent = console.run("#微心愿 3号楼楼道灯泡坏了，想请人帮忙换一下\n#投诉 3号楼楼道灯坏了\n#微心愿 3号楼楼道灯不亮，想请人帮忙换")
    assert [text.split("（")[0] for text in console.in_chat("3号楼业主群", sent)] == [
        "收到您的微心愿，已登记为 微心愿#3", "收到，已登记为 诉求#4", "收到您的微心愿，已登记为 微心愿#5"]
    with UnitOfWork(console.app.db) as uow:
        reporters = [uow.people.get(uow.requests.get(n).reporter_id).name for n in (1, 2)]
        assert reporters == ["王阿姨", "李大爷"] and uow.requests.follower_ids(1) == []
    sent = console.run("/as 李建国\n/in 私聊\n接单 2\n办结 2 快递取到了")
    assert not any("请您评价" in text for text in console.seen_by("王阿姨", sent)), "she is asked about her own only"


def test_what_the_reporter_adds_reaches_the_grid_member_at_most_once_an_hour(console):
    console.run("#投诉 3号楼电梯坏了\n/as 李建国\n/in 私聊\n接单 1\n/as 王阿姨\n/in 3号楼业主群")
    sent = console.run("#投诉 3号楼电梯还是坏的，按钮也不亮")
    assert console.seen_by("王阿姨", sent) == ["您已反映过这个问题（诉求#1，处理中），已把新情况补充给网格员李建国。"]
    assert console.seen_by("李建国", sent) == ["诉求#1 居民补充：3号楼电梯还是坏的，按钮也不亮"]
    sent = console.run("/advance 10m\n#投诉 3号楼电梯门关不上\n/advance 10m\n补充 1 楼下2单元的也停了")
    assert console.seen_by("李建国", sent) == [], "held for one notice, not one per message"
    sent = console.run("/advance 40m")
    assert console.seen_by("李建国", sent) == [
        "诉求#1（电梯·3号楼）居民新情况汇总（2 条）：\n· 王阿姨 补充：3号楼电梯门关不上\n"
        "· 王阿姨 补充：楼下2单元的也停了\n完整记录发「详情 1」。"]
    assert console.seen_by("李建国", console.run("/advance 2h")) == [], "nothing new, nothing sent"
    sent = console.run("补充 1 今天有维修工来过吗")  # a quiet hour has passed: told at once again
    assert console.seen_by("李建国", sent) == ["诉求#1 居民补充：今天有维修工来过吗"]
    sent = console.run("补充 1 电梯里有人被困了")  # in the new quiet hour, yet an emergency does not wait
    assert console.seen_by("李建国", sent) == ["诉求#1 居民补充：电梯里有人被困了"]


def test_twenty_neighbours_reporting_one_lift_make_two_messages_and_an_emergency_goes_at_once(console):
    console.run("#投诉 3号楼电梯坏了\n/as 李建国\n/in 私聊\n接单 1\n/in 3号楼业主群")
    sent = console.run("\n".join(f"/as 邻居{n}\n#报修 3号楼电梯又不动了" for n in range(20)))
    assert console.seen_by("李建国", sent) == ["诉求#1 又有居民（邻居0）反映：3号楼电梯又不动了"]
    assert all(console.seen_by(f"邻居{n}", sent)[0].startswith("已有同类诉求#1") for n in range(20))
    sent = console.run("/as 李大爷\n3号楼电梯困人了，有人被困在里面")
    assert console.seen_by("李建国", sent)[0].startswith("⚠️ 紧急 诉求#1"), "an urgent turn is never held back"
    sent = console.run("/advance 1h")
    [summary] = console.seen_by("李建国", sent)
    assert summary.startswith("⚠️ 紧急 诉求#1（电梯·3号楼）居民新情况汇总（19 条）") and "邻居19" in summary
    assert "李大爷" not in summary, "the urgent alert told of him already"
    shown = console.run("/as 李建国\n/in 私聊\n详情 1")
    assert all(f"邻居{n} 同类反映" in console.seen_by("李建国", shown)[0] for n in range(20))


def test_a_fire_after_a_gas_smell_and_clutter_after_a_fire_are_filed_apart_two_gas_reports_are_one(console):
    console.run("3号楼楼道里一股煤气味")
    sent = console.run("/as 王五\n3号楼楼下着火了 好多烟")
    assert console.in_chat("3号楼业主群", sent)[0].split("\n")[2].startswith("⚠️ 紧急 诉求#2（安全隐患·3号楼）已登记")
    console.run("/as 赵六\n#投诉 3号楼楼道里堆满了杂物")
    assert request(console, 3).urgent is False and request(console, 3).category == "safety"
    sent = console.run("/as 李四\n3号楼煤气味好重")
    assert console.in_chat("3号楼业主群", sent)[0].split("\n")[2].startswith("已有同类诉求#1")


def test_two_households_problems_of_one_category_are_two_requests_and_a_shared_outage_is_one(console):
    """A leaking kitchen pipe is not a neighbour's blocked toilet, a broken door entry not a loose handrail: the
    second was linked to the first as "已有同类诉求" and never filed, and its grid member saw one. A water cut in
    everyone's home, a lift named in other words, and "+1 我家也…" are one problem."""
    sent = console.run("/as 老张\n#报修 我家厨房水管漏水\n/as 李姐\n#报修 我家马桶堵了 冲不下去")
    assert console.in_chat("3号楼业主群", sent)[1].startswith("收到，已登记为 诉求#2（水管")
    sent = console.run("#投诉 门禁坏了 刷卡没反应\n/as 老张\n#投诉 楼道扶手松了 老人扶着晃")
    assert console.in_chat("3号楼业主群", sent)[1].startswith("收到，已登记为 诉求#4（公共设施")

    sent = console.run("/as 王阿姨\n#报修 家里停水了\n/as 李大爷\n#报修 我家也没水了\n/as 小刘\n#投诉 我们家一滴水都没有 停水了")
    group = console.in_chat("3号楼业主群", sent)
    assert group[0].startswith("收到，已登记为 诉求#5") and all("诉求#5" in text and "关注" in text for text in group[1:])
    sent = console.run("#投诉 3号楼电梯坏了\n/as Tom\n#complaint the lift in building 3 is broken again")
    assert "#6" in console.in_chat("3号楼业主群", sent)[-1] and request(console, 7) is None
