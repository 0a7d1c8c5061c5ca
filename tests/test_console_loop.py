"""End to end on the console: every participant's view of the closed loop."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

from handlers.intake.reader import OFFER_MARGIN
from storage.models import Request
from storage.uow import UnitOfWork


def timeline(console, number: int):
    with UnitOfWork(console.app.db) as uow:
        return uow.requests.timeline(number)


def request(console, number: int) -> Request:
    with UnitOfWork(console.app.db) as uow:
        return uow.requests.get(number)


def test_complaint_claimed_progressed_done_rated_and_closed(console):
    sent = console.run("#投诉 3号楼2单元电梯又坏了，已经两天了没人修")
    group = console.in_chat("3号楼业主群", sent)
    assert group == ["收到，已登记为 诉求#1（电梯·3号楼2单元），由网格员李建国负责，11-23 11:00 前响应。进展会私信告诉您。"]
    notice = console.seen_by("李建国", sent)
    assert len(notice) == 1 and "诉求#1：电梯·3号楼2单元" in notice[0] and "反映人：王阿姨" in notice[0]
    assert "接单 1" in notice[0]

    sent = console.run("""
/as 李建国
/in 私聊
接单 1
进展 1 已联系电梯维保公司，下午到
办结 1 已更换控制板，恢复运行
""")
    assert console.seen_by("李建国", sent) == [
        "已接单 诉求#1（电梯·3号楼2单元），11-24 10:00 前办结。",
        "诉求#1 的进展已记录并告知居民。",
        "诉求#1 已办结，已请居民评价。",
    ]
    resident = console.seen_by("王阿姨", sent)
    # the outcome and the question come in one message: a resident's phone buzzes once
    assert resident == ["您的 诉求#1（电梯）已由网格员李建国（电话 13800000001）接单，正在处理。",
                        "诉求#1 有新进展：已联系电梯维保公司，下午到",
                        "诉求#1（电梯）已办结：已更换控制板，恢复运行\n请您评价：回复 1–5 分，或 满意 / 基本满意 / 不满意。"]
    prompt = [m for _, m in sent if m.text == resident[2]][0]
    assert [c.reply for c in prompt.choices] == ["满意", "基本满意", "不满意"]

    sent = console.run("/as 王阿姨\n/in 私聊\n满意")
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#1 已关闭。有需要随时找我。"]
    assert console.seen_by("李建国", sent) == ["诉求#1 居民评价 5 分，已关闭。"]
    closed = request(console, 1)
    assert (closed.state, closed.rating, closed.level) == ("closed", 5, 0)


def test_rating_by_replying_to_the_prompt_in_the_group(console, settings):
    console.run("#投诉 3号楼电梯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 修好了")
    # A resident with no private chat would get the prompt in the group; here a group reply to it rates.
    prompt = console.message_id("请您评价")
    sent = console.run(f"/as 王阿姨\n/in 3号楼业主群\n/reply {prompt} 4 很及时")
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#1 已关闭。有需要随时找我。"]
    assert request(console, 1).rating == 4 and request(console, 1).rating_comment == "很及时"


def test_micro_wish_goes_to_the_first_volunteer_who_claims_it(console):
    sent = console.run("#微心愿 我是3号楼独居老人，想请人帮忙换一下厨房的灯泡")
    assert console.in_chat("3号楼业主群", sent)[0].startswith("收到您的微心愿，已登记为 微心愿#1")
    for volunteer in ("陈志远", "孙丽"):
        offer = console.seen_by(volunteer, sent)
        assert len(offer) == 1 and "回复「接单 1」认领" in offer[0]

    sent = console.run("/as 孙丽\n/in 私聊\n接单 1\n/as 陈志远\n接单 1")
    assert console.seen_by("孙丽", sent) == ["已接单 微心愿#1（生活帮扶·3号楼），11-30 10:00 前办结。\n上门前请先和心愿人约好：发「进展 1 您想说的话」给 TA 留言，TA 的回复会转给您。",
                                           "🌟 认领微心愿#1，积分 +5，累计 5 分。"]
    assert console.seen_by("陈志远", sent) == ["微心愿#1 已被其他志愿者认领，谢谢您的热心！"]
    assert console.seen_by("王阿姨", sent)[0].startswith("您的 微心愿#1 已由志愿者孙丽认领。")

    sent = console.run("/as 孙丽\n办结 1 灯泡已换好")
    assert console.seen_by("孙丽", sent) == ["微心愿#1 已办结，已请居民评价。", "🌟 完成微心愿#1，积分 +10，累计 15 分。谢谢您！"]
    to_her = console.seen_by("王阿姨", sent)  # she filed a micro-wish, and hears of it as one throughout
    assert to_her == ["微心愿#1（生活帮扶）已办结：灯泡已换好\n请您评价：回复 1–5 分，或 满意 / 基本满意 / 不满意。"]
    with UnitOfWork(console.app.db) as uow:
        points = [e.data["points"] for e in uow.requests.timeline(1) if e.action == "points"]
        assert uow.requests.get(1).assignee_id == uow.people.by_staff_id("sun_li").id
    assert points == [5, 10]


def test_not_satisfied_reopens_and_escalates_to_the_leader(console):
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管")
    sent = console.run("/as 王阿姨\n/in 私聊\n不满意 还是不亮")
    assert console.seen_by("王阿姨", sent) == ["抱歉没能让您满意，诉求#1 已重新打开，已上报网格长王强督办，会尽快再处理。"]
    to_member = console.seen_by("李建国", sent)
    assert to_member[0].startswith("诉求#1 居民不满意（1 分），已重新打开并上报网格长王强。留言：还是不亮")
    leader = console.seen_by("王强", sent)
    assert len(leader) == 1 and "已上报到您：居民对处理结果不满意" in leader[0]
    reopened = request(console, 1)
    assert (reopened.state, reopened.level) == ("reopened", 1)

    sent = console.run("/advance 1h\n/as 李建国\n办结 1 更换了整条线路")
    assert console.seen_by("王阿姨", sent)[-1].startswith("诉求#1（电力照明）已办结：更换了整条线路\n请您评价")


def test_unclaimed_request_is_reminded_then_escalated_up_the_ladder(console, clock):
    console.run("#投诉 3号楼电梯坏了")          # respond by 11:00, reminder at 10:30
    sent = console.run("/advance 31m")
    assert console.seen_by("李建国", sent) == [
        "⏰ 提醒：诉求#1（电梯·3号楼）还没有接单，请在 11-23 11:00 前接单。回复「接单 1」。"]
    assert not any("上报" in text for text in console.seen_by("王强", sent))

    sent = console.run("/advance 30m")
    assert "已上报到您：超过响应时限无人接单" in console.seen_by("王强", sent)[0]
    assert console.seen_by("李建国", sent) == [
        "诉求#1（电梯·3号楼）超过响应时限无人接单，已上报给网格长王强（接单已超时不到 1 小时，11-24 10:00 前办结）。"
        "仍请您尽快接单：回复「接单 1」。"]
    assert console.seen_by("王阿姨", sent) == [  # she is not left wondering
        "您的 诉求#1（电梯）暂时还没有工作人员接单，已上报网格长王强督办，会尽快给您答复。"]
    assert request(console, 1).level == 1

    sent = console.run("/advance 1d")
    assert any("已上报到您" in text for text in console.seen_by("赵书记", sent))
    assert console.seen_by("王阿姨", sent) == [
        "您的 诉求#1（电梯）没能在约定的时间内办好，已上报书记赵红梅督办，会尽快给您答复。"]
    assert request(console, 1).level == 2
    sent = console.run("/advance 3d")
    assert not any("已上报到您" in text for text in console.seen_by("赵书记", sent)), "no rung above the secretary"


def test_unrated_request_is_asked_again_then_closed_unrated(console):
    console.run("#投诉 3号楼垃圾三天没清运了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 已清运")
    asks = []
    for step in ("1d", "2d", "4d"):
        asks.append(console.seen_by("王阿姨", console.run(f"/advance {step}")))
    assert [len(a) for a in asks] == [1, 1, 1]
    assert asks[0][0].startswith("诉求#1（环境卫生）还等您评价")
    assert asks[2] == ["您的 诉求#1（环境卫生）办结后一直没有收到评价，已自动关闭。如果问题还在，直接告诉我就行，会重新交给负责人。"]
    assert request(console, 1).state == "closed" and request(console, 1).rating is None
    with UnitOfWork(console.app.db) as uow:
        assert [e.action for e in uow.requests.timeline(1)][-1] == "closed_unrated"


def test_an_untagged_report_is_offered_and_filed_only_when_the_resident_says_so(console):
    sent = console.run("3号楼的楼道灯坏了")  # begins with a number, yet is no rating of 3
    assert console.in_chat("3号楼业主群", sent) == ["这条消息像是一个电力照明问题，需要登记为诉求吗？回复 1 登记，回复 2 不用。"]
    sent = console.run("1")
    assert console.in_chat("3号楼业主群", sent)[0].startswith("收到，已登记为 诉求#1（电力照明·3号楼）")
    assert request(console, 1).text == "3号楼的楼道灯坏了"

    sent = console.run("5号楼下水道堵了\n2")
    assert console.in_chat("3号楼业主群", sent)[-1] == "好的，不登记。需要时发「#投诉 内容」或「#微心愿 内容」即可。"
    assert request(console, 2) is None

    sent = console.run("一般6号楼楼道灯晚上都不亮")  # 一般 could be a rating of 3, but nothing waits for one
    assert console.in_chat("3号楼业主群", sent) == ["这条消息像是一个电力照明问题，需要登记为诉求吗？回复 1 登记，回复 2 不用。"]


def test_an_answer_to_a_lapsed_offer_is_told_so_and_files_nothing(console):
    console.run("3号楼的楼道灯坏了")
    offer = console.message_id("需要登记为诉求吗")
    sent = console.run(f"/advance 2d\n/reply {offer} 1")
    assert console.in_chat("3号楼业主群", sent)[-1] == "这条登记询问已过期。如还需要，请发「#投诉 内容」。"
    assert request(console, 1) is None


def test_a_later_report_of_someone_trapped_makes_the_open_request_urgent(console):
    console.run("#投诉 3号楼电梯坏了")
    routine = request(console, 1)
    sent = console.run("/as 李大爷\n3号楼电梯困人了，有人被困在里面")
    to_reporter = console.seen_by("李大爷", sent)
    assert to_reporter[0].startswith("🚨 请立即拨打 119 或 96333") and "\n⚠️ 已按紧急情况处理：诉求#1" in to_reporter[0]
    to_member = console.seen_by("李建国", sent)
    assert len(to_member) == 1 and to_member[0].startswith("⚠️ 紧急 诉求#1") and "有人被困在里面" in to_member[0]
    assert any(text.startswith("⚠️ 紧急 诉求#1") for text in console.seen_by("王强", sent))  # the grid leader too
    urgent = request(console, 1)
    assert urgent.urgent and urgent.respond_by < routine.respond_by and urgent.resolve_by < routine.resolve_by
    assert request(console, 2) is None  # still one problem, now with a follower
    with UnitOfWork(console.app.db) as uow:  # her words once in the timeline, as it turned urgent
        assert [(e.action, e.note) for e in uow.requests.timeline(1)][-2:] == [
            ("turned_urgent", "3号楼电梯困人了，有人被困在里面"), ("followed", None)]


def test_second_report_of_the_same_problem_follows_the_first(console):
    console.run("#投诉 3号楼电梯坏了")
    sent = console.run("/as 李大爷\n#报修 电梯又不动了，3号楼")
    assert console.seen_by("李大爷", sent) == ["已有同类诉求#1正在处理（待接单），已为您关注，有进展会通知您。"]
    assert "李大爷" in console.seen_by("李建国", sent)[0]
    with UnitOfWork(console.app.db) as uow:
        assert uow.requests.get(2) is None
        assert len(uow.requests.follower_ids(1)) == 1

    sent = console.run("/as 李建国\n/in 私聊\n接单 1\n办结 1 已修复")
    assert any("请您评价" in text for text in console.seen_by("李大爷", sent)), "followers are asked to rate too"


def test_a_grid_member_cannot_merge_her_request_into_another_grids(console):
    console.run("#投诉 3号楼电梯坏了\n/as 李大爷\n/in 8号楼业主群\n#投诉 8号楼2单元电梯也坏了")
    sent = console.run("/as 刘芳\n/in 私聊\n合并 2 到 1")
    assert console.seen_by("刘芳", sent) == ["抱歉，只有 诉求#1 的负责人、网格长或书记可以这样操作。"]
    assert request(console, 2).state == "assigned" and request(console, 2).duplicate_of is None
    sent = console.run("/as 王强\n合并 2 到 1")  # the grid leader manages both
    assert console.seen_by("王强", sent) == ["诉求#2 已合并到 诉求#1。"]


def test_commands_from_the_wrong_person_are_refused_and_change_nothing(console):
    console.run("#投诉 3号楼电梯坏了")
    sent = console.run("/as 张伟\n/in 私聊\n办结 1 我修好了\n/as 王阿姨\n办结 1 好了")
    assert console.seen_by("张伟", sent) == ["抱歉，只有 诉求#1 的负责人、网格长或书记可以这样操作。"]
    assert console.seen_by("王阿姨", sent) == ["抱歉，这是网格员使用的命令。反映问题请发「#投诉 内容」。"]
    assert request(console, 1).state == "assigned"


def test_bad_commands_get_clear_replies(console):
    console.run("#投诉 3号楼电梯坏了")
    sent = console.run("/as 李建国\n/in 私聊\n接单 99\n办结 1\n进展 1 在看\n评价 1 满意\n/done 1 fixed")
    assert console.seen_by("李建国", sent) == [
        "没有找到 诉求#99，请核对编号。",
        "请在编号后写上怎么解决的，例如「办结 1 已更换灯泡」。",
        "请先接单：「接单 1」。",
        "抱歉，诉求#1 不是您反映的。",
        "诉求#1 已办结，已请居民评价。",
    ]
    sent = console.run("上报 1")
    assert console.seen_by("李建国", sent) == ["请在编号后写上上报的原因，例如「上报 1 需要物业维保公司到场」。"]
    assert request(console, 1).level == 0
    sent = console.run("办结 1 again")
    assert console.seen_by("李建国", sent) == ["诉求#1 目前「已办结待评价」，不能办结。"]


def test_a_tag_with_nothing_after_it_is_asked_what_is_wrong_and_files_nothing(console):
    sent = console.run("#投诉\n#微心愿\n#投诉 3号楼2单元\n@小区助手")
    assert console.in_chat("3号楼业主群", sent) == ["请在后面写上是什么问题，例如「#投诉 3号楼2单元电梯坏了」。",
                                                 "请在后面写上您的心愿，例如「#微心愿 想请人帮忙换一下厨房的灯泡」。",
                                                 "请在后面写上是什么问题，例如「#投诉 3号楼2单元电梯坏了」。",
                                                 "请说说遇到了什么问题，例如「3号楼2单元电梯坏了」。"]
    assert request(console, 1) is None and console.seen_by("李建国", sent) == []
    console.run("#投诉 电梯坏了")  # a single word of what is wrong is enough
    assert request(console, 1).category == "elevator"


def test_a_report_without_a_place_asks_for_it_and_takes_it_from_the_answer(console):
    sent = console.run("/in 幸福里大群\n#投诉 电梯坏了")
    [ack] = console.in_chat("幸福里大群", sent)  # one message: a group takes only so many
    assert ack.endswith("\n请直接回复在哪里：几号楼、几单元。")  # no example building to copy in a panic
    assert console.seen_by("王强", sent)[0].startswith("新诉求#1：电梯·位置待确认")  # the leader has it meanwhile
    sent = console.run("补充 1 3号楼2单元")
    placed = request(console, 1)
    assert (placed.building, placed.unit, placed.grid) == ("3", "2", "east")
    assert console.seen_by("王强", sent) == ["诉求#1 的位置已确认为 3号楼2单元，已转给李建国负责。"]
    notice = console.seen_by("李建国", sent)
    assert len(notice) == 1 and notice[0].startswith("诉求#1：电梯·3号楼2单元（居民补充了位置，现由您负责）")
    sent = console.run("/as 李建国\n/in 私聊\n接单 1")
    assert console.seen_by("李建国", sent)[0].startswith("已接单 诉求#1")


def test_a_command_without_its_number_is_shown_how_with_that_command(console):
    sent = console.run("/in 私聊\n撤回\n评价\nwithdraw")
    assert console.seen_by("王阿姨", sent) == ["请写上诉求编号，例如「撤回 37」。", "请写上诉求编号，例如「评价 37」。",
                                             "请写上诉求编号，例如「撤回 37」。"]  # one English word is no switch
    sent = console.run("withdraw it please\nwithdraw it please")  # written twice, English is her language
    assert console.seen_by("王阿姨", sent) == ["请写上诉求编号，例如「撤回 37」。",
                                             "Please give the request number, e.g. 'withdraw 37'."]


def test_resident_lists_adds_detail_and_withdraws(console):
    console.run("#投诉 3号楼电梯坏了\n/in 私聊")
    sent = console.run("补充 1 是2单元那部\n我的诉求\n撤回 1")
    mine = console.seen_by("王阿姨", sent)
    assert mine[0] == "已把补充内容转给 诉求#1 的负责人。"
    assert mine[1].startswith("我的诉求：1 件\n#1 电梯·3号楼2单元·待接单")  # the unit her detail named
    assert mine[2] == "诉求#1 已撤回。"
    assert console.seen_by("李建国", sent) == ["诉求#1 居民补充：是2单元那部", "诉求#1 已被居民撤回，无需处理。"]
    with UnitOfWork(console.app.db) as uow:
        assert uow.followups.pending(1) == []


def test_hello_in_private_gets_the_welcome_and_the_menu_keeps_the_language(console):
    sent = console.run("/in 私聊\n你好\n/my\nok\n/help")
    replies = console.seen_by("王阿姨", sent)
    assert replies[0].startswith("您好！我是小区助手。")  # what the group invitation asked her to send
    assert replies[1].startswith("我的诉求") and replies[3].startswith("您好！"), "a command is no sign of English"
    sent = console.run("Hello there, is anyone reading this?\nHello, can anyone read English here?")
    assert console.seen_by("王阿姨", sent)[1:] == [  # English words, written again, do say English
        "Sorry, I did not understand. To report a problem write '#complaint …', for a micro-wish '#wish …', "
        "for your requests '/my', for more 'help'."]


def test_english_commands_and_replies(console):
    console.run("#complaint The elevator in building 3 has been broken since Monday")
    sent = console.run("/as 李建国\n/in 私聊\n/claim 1\n/done 1 replaced the door sensor")
    assert console.seen_by("李建国", sent)[0].startswith("已接单")  # staff language comes from config
    resident = console.seen_by("王阿姨", sent)
    assert resident[0] == "Your request #1 (lift) was claimed by grid member 李建国 (phone 13800000001) and is being handled."
    assert resident[-1].startswith("The work on request #1 (lift) is done: replaced the door sensor\nHow did we do?")


def test_escalation_schedule_survives_restart(console, clock):
    console.run("#投诉 3号楼电梯坏了")
    console.restart()
    sent = console.run("/advance 61m")
    assert any("已上报到您" in text for text in console.seen_by("王强", sent))
    with UnitOfWork(console.app.db) as uow:
        kinds = {f.kind for f in uow.followups.pending(1)}
    assert kinds == {"escalate_respond", "remind_resolve", "escalate_resolve"}
    assert clock.now() - request(console, 1).created_at == timedelta(minutes=61)


def test_help_and_my_requests_work_in_the_group_as_the_help_text_says(console):
    console.run("#投诉 3号楼电梯坏了")
    sent = console.run("帮助\n我的诉求\n列表\n帮助！\n我的快递到了\n帮助我一下")
    group = console.in_chat("3号楼业主群", sent)
    assert len(group) == 4, "帮助, 我的诉求, 列表 alone are commands; 我的快递到了 and 帮助我一下 are chatter"
    assert group[0].startswith("您好！我是小区助手。") and group[3] == group[0]
    assert group[1] == group[2] == "您有 1 件诉求，清单已私信发给您。"
    sent = console.run("/in 私聊\n列表\n查看进度\n我的投诉\nmy requests")
    assert [text.startswith("我的诉求：1 件\n#1 电梯·3号楼·待接单") for text in console.seen_by("王阿姨", sent)] == [True] * 4


def test_a_mention_with_a_command_greeting_or_thanks_is_answered_and_only_a_problem_is_filed(console):
    sent = console.run("@小区助手 帮助\n@小区助手 我的诉求\n@小区助手 你好\n@小区助手 谢谢\n@小区助手 在吗\n"
                       "@小区助手 今天天气怎么样\n@小区助手")
    to_her = console.in_chat("3号楼业主群", sent)
    assert to_her[0].startswith("您好！我是小区助手。") and to_her[1] == "您目前没有反映过的诉求。反映问题请发「#投诉 内容」。"
    assert to_her[2:] == ["您好！遇到问题直接告诉我，例如「#投诉 3号楼电梯坏了」；查看进度发「我的诉求」，更多发「帮助」。",
                          "不客气！有需要随时找我。",
                          "您好！遇到问题直接告诉我，例如「#投诉 3号楼电梯坏了」；查看进度发「我的诉求」，更多发「帮助」。",
                          "我没有看懂这条消息。反映问题请发「#投诉 内容」，微心愿请发「#微心愿 内容」，查看进度发「我的诉求」，更多发「帮助」。",
                          "请说说遇到了什么问题，例如「3号楼2单元电梯坏了」。"]
    assert request(console, 1) is None and console.seen_by("李建国", sent) == [], "nothing filed, nobody paged"

    sent = console.run("@小区助手 3号楼电梯不动了")  # a problem said to the bot is filed, even without 坏
    assert console.seen_by("王阿姨", sent)[0].startswith("收到，已登记为 诉求#1（电梯·3号楼）")
    sent = console.run("@小区助手 谢谢\n@小区助手 👍\n/as 李大爷\n@小区助手 你好\n@小区助手 在吗？有人吗")
    assert console.seen_by("王阿姨", sent) == ["不客气！有需要随时找我。"] * 2, "no 'you already reported this'"
    assert [text.startswith("您好！遇到问题") for text in console.seen_by("李大爷", sent)] == [True, True]
    with UnitOfWork(console.app.db) as uow:
        assert uow.requests.follower_ids(1) == [], "a neighbour's hello makes her no follower"
        assert [e.action for e in uow.requests.timeline(1)] == ["filed", "assigned"]


def test_language_follows_what_a_resident_clearly_and_repeatedly_writes_or_chooses(console):
    console.run("#投诉 3号楼电梯坏了\n/in 私聊")
    sent = console.run("thank you\n'; DROP TABLE request;--\n<b>x</b>\nok thanks\nI am at the gate now\n好的谢谢")
    assert all("我" in text or "不客气" in text for text in console.seen_by("王阿姨", sent)), "none of these is a switch"
    sent = console.run("I am at the gate now\n/as 李建国\n接单 1")  # once more, but not twice running
    assert console.seen_by("王阿姨", sent)[-1] == "您的 诉求#1（电梯）已由网格员李建国（电话 13800000001）接单，正在处理。"

    sent = console.run("/as 王阿姨\n知道了\nIs anyone reading my messages?\nCan anyone here read English?")
    assert [t.startswith("Sorry") for t in console.seen_by("王阿姨", sent)] == [False, False, True]
    sent = console.run("语言 中文\nI write in English again\nand again and again\n/lang en\n/lang\n帮助")
    assert console.seen_by("王阿姨", sent)[:3] == ["好的，以后用中文和您交流。",
                                                 "我没有看懂这条消息。反映问题请发「#投诉 内容」，微心愿请发「#微心愿 内容」，查看进度发「我的诉求」，更多发「帮助」。",
                                                 "我没有看懂这条消息。反映问题请发「#投诉 内容」，微心愿请发「#微心愿 内容」，查看进度发「我的诉求」，更多发「帮助」。"]
    assert console.seen_by("王阿姨", sent)[3:5] == ["OK, I will write to you in English from now on.",
                                                  "Please name the language, e.g. 'lang en' or 'lang 中文'."]
    assert '"lang 中文" for Chinese' in console.seen_by("王阿姨", sent)[5], "help lists the command"
    sent = console.run("/in 3号楼业主群\n语言 中文\n语言学习班开课了")
    assert console.in_chat("3号楼业主群", sent) == ["好的，以后用中文和您交流。"]


def test_my_list_asked_in_the_group_goes_to_the_private_chat_and_the_group_hears_only_the_count(console):
    console.run("#投诉 3号楼电梯坏了\n/as 李大爷\n#报修 3号楼电梯又不动了")
    sent = console.run("/as 王阿姨\n/my\n/as 李建国\n我的")
    assert console.in_chat("3号楼业主群", sent) == ["您有 1 件诉求，清单已私信发给您。", "您有 1 件诉求，清单已私信发给您。"]
    assert console.seen_by("王阿姨", sent)[0] == "我的诉求：1 件\n#1 电梯·3号楼·待接单·11-23 11:00 前接单"
    assert console.seen_by("李建国", [m for m in sent if m[1].chat_id == "@李建国"])[0].startswith("待我处理：1 件\n#1")


def test_show_in_the_group_gives_the_state_only_and_the_timeline_privately(console):
    console.run("#投诉 3号楼电梯坏了\n/as 李大爷\n#报修 3号楼电梯又不动了，我在12楼腿脚不便")
    sent = console.run("/as 王阿姨\n查看 1\n/as 李建国\n详情 1")
    assert console.in_chat("3号楼业主群", sent) == ["#1 电梯·3号楼·待接单·11-23 11:00 前接单\n完整记录已私信发给您。"] * 2
    timeline = console.seen_by("王阿姨", [m for m in sent if m[1].chat_id == "@王阿姨"])
    assert len(timeline) == 1 and "另一位居民 同类反映" in timeline[0], "her neighbour's name and words are his"
    assert "李大爷" not in timeline[0] and "腿脚不便" not in timeline[0]
    staff = console.seen_by("李建国", [m for m in sent if m[1].chat_id == "@李建国"])
    assert "李大爷" in staff[0] and "腿脚不便" in staff[0]


def test_numbers_no_request_can_have_and_self_references_are_told_so(console):
    console.run("#投诉 3号楼电梯坏了\n/as 李大爷\n/in 8号楼业主群\n#投诉 8号楼2单元电梯也坏了")
    sent = console.run("/as 王强\n/in 私聊\n接单 99999999999999999999999\n接单 12345678\n接单 -1\n接单 0\n合并 1 到 1\n"
                       "合并 1 到 99999999999999999999\n转派 2 刘芳\n详情 99999999999999999999")
    assert console.seen_by("王强", sent) == [
        "没有找到 诉求#99999999999999999999999，请核对编号。", "没有找到 诉求#12345678，请核对编号。",
        "没有找到 诉求#-1，请核对编号。", "没有找到 诉求#0，请核对编号。",
        "诉求#1 不能合并到它自己，请写要合并进去的另一个编号。", "没有找到 诉求#99999999999999999999，请核对编号。",
        "诉求#2 已由刘芳负责，无需转派。", "没有找到 诉求#99999999999999999999，请核对编号。"]
    assert request(console, 1).state == request(console, 2).state == "assigned"

    console.run("/as 李建国\n接单 1\n办结 1 修好了\n/as 王阿姨\n满意")
    sent = console.run("评价 1\n/as 李大爷\n评价 2")
    assert console.seen_by("王阿姨", sent) == ["您已经评价过 诉求#1，谢谢！"]
    assert console.seen_by("李大爷", sent) == ["诉求#2 还没有办结，办结后会请您评价。"]


def test_a_group_is_bound_to_a_building_given_by_its_number_alone(console):
    sent = console.run("/as 赵书记\n/in 幸福里大群\n/bindchat 3")  # as the English help writes it
    assert console.in_chat("幸福里大群", sent) == ["本群已绑定到 3号楼，群里反映的问题会自动记到这里的楼栋。"]


def test_console_lines_without_what_they_need_say_how_to_use_them(console):
    console.run("/reply\n/reply m1\n/advance 99999999999d")
    out = console.out.getvalue()
    assert out.count("— usage: /reply mN TEXT") == 2
    assert "too long a duration" in out and "did not go through" not in out


def test_a_transfer_tells_the_resident_who_now_has_her_request(console):
    console.run("#投诉 3号楼2单元电梯又坏了\n/as 李建国\n/in 私聊\n接单 1")
    sent = console.run("转派 1 张伟")
    assert console.seen_by("王阿姨", sent) == ["您的 诉求#1（电梯）已转由网格员张伟（电话 13800000002）负责。"]
    # Someone whose name says her role is not named twice (物业物业客服).
    sent = console.run("/as 张伟\n接单 1\n转派 1 物业客服")
    assert console.seen_by("王阿姨", sent)[-1].startswith("您的 诉求#1（电梯）已转由物业客服")


def test_a_resident_asking_how_her_request_stands_is_answered(console):
    console.run("#投诉 3号楼2单元电梯又坏了\n/in 私聊")
    for question in ("电梯修好了吗", "我报的事怎么样了？", "any news?"):
        sent = console.run(question)
        assert console.seen_by("王阿姨", sent)[0].startswith(("我的诉求：1 件\n#1 电梯·3号楼2单元·待接单", "My requests"))
    for asked in ("进度 1", "查询 1"):  # a resident's 进度 N asks for the state; it adds no staff note
        sent = console.run(asked)
        assert console.seen_by("王阿姨", sent)[0].startswith("诉求#1 电梯·3号楼2单元\n状态：待接单")
    assert [e.action for e in timeline(console, 1)] == ["filed", "assigned"]


def test_help_is_for_who_asks(console):
    sent = console.run("/as 孙丽\n/in 私聊\n帮助")
    [volunteer] = console.seen_by("孙丽", sent)
    assert volunteer.startswith("志愿者命令") and "转派" not in volunteer and "上报" not in volunteer
    sent = console.run("/as 李建国\n帮助")
    assert console.seen_by("李建国", sent)[0].startswith("网格员命令")
    sent = console.run("/as 王阿姨\n帮助")
    assert console.seen_by("王阿姨", sent)[0].startswith("您好！我是小区助手。")
    [secretary] = console.seen_by("赵书记", console.run("/as 赵书记\n帮助"))
    assert secretary.startswith("网格长、书记命令") and "日报" in secretary and "绑定群" in secretary


def test_a_status_question_is_never_filed_nor_offered_and_is_pointed_to_my_requests(console):
    """13#4: "3号楼电梯修好了吗" asks about a problem, it reports none; said to the bot it is told where progress is."""
    hint = "我没有看懂这条消息。反映问题请发「#投诉 内容」，微心愿请发「#微心愿 内容」，查看进度发「我的诉求」，更多发「帮助」。"
    sent = console.run("3号楼电梯修好了吗\n我报的事有进展吗\n漏水的事后来怎么处理的\n电梯修好没有啊，今天还要搬东西")
    assert console.in_chat("3号楼业主群", sent) == [], "no offer to file a question"
    sent = console.run("@小区助手 3号楼电梯修好了吗\n/in 私聊\n我报的事有进展吗\n/in 3号楼业主群\n@小区助手 你好呀 我在学做饭")
    none = "您目前没有反映过的诉求。反映问题请发「#投诉 内容」。"
    assert console.in_chat("3号楼业主群", sent) == [none, hint]  # asked of the bot, her list answers it
    assert console.seen_by("王阿姨", sent)[1].startswith("我的诉求：0 件")
    assert request(console, 1) is None


def test_a_claim_by_someone_else_tells_whom_it_was_sent_to_and_a_second_claim_says_it_is_yours(console):
    console.run("/in 5号楼业主群\n#投诉 5号楼路灯坏了")  # the middle grid: 张伟's
    sent = console.run("/as 王强\n/in 私聊\n接单 1")
    assert console.seen_by("张伟", sent) == ["诉求#1（电力照明·5号楼）已由网格长王强接单，您不用再处理。"]
    again = console.seen_by("王强", console.run("接单 1"))
    assert again == ["诉求#1 已由您接单，正在处理。办好后回复「办结 1 说明」。"]


def test_an_emergency_nobody_claims_goes_up_and_its_reporter_and_a_neighbour_hear_which_number_to_call(console):
    console.run("#投诉 3号楼2单元电梯坏了，有人被困在里面")
    sent = console.run("/as 张三\n+1 我家老人也在等电梯")  # a "+1" with words after it: the same lift
    assert console.seen_by("张三", sent) == ["已记下您也遇到这个问题，诉求#1（电梯）的进展和办结评价会私信告诉您。"]
    sent = console.run("/advance 20m")
    call = "如仍有危险，请立即拨打 119 或 96333（电梯应急电话）！"
    assert console.seen_by("王阿姨", sent) == [
        f"您的 诉求#1（电梯）暂时还没有工作人员接单，已上报网格长王强督办，会尽快给您答复。{call}"]
    assert console.seen_by("张三", sent) == [
        f"您也反映过的 诉求#1（电梯）暂时还没有工作人员接单，已上报网格长王强督办，会尽快给您答复。{call}"]
    sent = console.run("/as 李建国\n/in 私聊\n接单 1\n/advance 3d")
    assert console.seen_by("王阿姨", sent)[-1] == (
        "您的 诉求#1（电梯）没能在约定的时间内办好，已上报书记赵红梅督办，会尽快给您答复。")


def test_a_resident_is_not_told_of_an_escalation_staff_made_by_hand(console):
    console.run("#投诉 3号楼楼道灯不亮\n/as 李建国\n/in 私聊\n接单 1")
    sent = console.run("上报 1 需要供电公司到场")
    assert console.seen_by("王阿姨", sent) == []


def test_a_neighbour_who_follows_hears_progress_without_flats_phones_or_photos_staff_gave_the_reporter(console):
    console.run("#投诉 3号楼2单元楼上漏水，天花板一直滴\n/as 张三\n+1 我家也被淹了")
    sent = console.run("/as 李建国\n/in 私聊\n接单 1\n进展 1 联系了楼上602 家里没人，明天再来，有事打13812345678")
    assert console.seen_by("王阿姨", sent)[-1] == (
        "诉求#1 有新进展：联系了楼上602 家里没人，明天再来，有事打13812345678")
    assert console.seen_by("张三", sent)[-1] == "诉求#1 有新进展：联系了楼上*** 家里没人，明天再来，有事打***"
    sent = console.run("办结 1 楼上602的进水阀已换")
    assert "楼上602的进水阀已换" in console.seen_by("王阿姨", sent)[-1]
    assert "楼上***的进水阀已换" in console.seen_by("张三", sent)[-1]


def test_an_offer_is_answered_in_her_own_words_and_what_cannot_be_read_is_asked_again(console):
    """"好的登记吧", "嗯嗯 帮我登记" and, after "2", "算了 还是登记一下吧" were met with silence."""
    for number, (report, words) in enumerate((("3号楼的楼道灯坏了", "好的登记吧"), ("5号楼下水道堵了", "嗯嗯 帮我登记")),
                                             start=1):
        console.run(report)
        sent = console.run(words)
        assert console.in_chat("3号楼业主群", sent)[0].startswith(f"收到，已登记为 诉求#{number}"), words
    console.run("6号楼门口垃圾没人清\n2")
    sent = console.run("算了 还是登记一下吧")
    assert console.in_chat("3号楼业主群", sent)[0].startswith("收到，已登记为 诉求#3（环境卫生·6号楼）")
    console.run("7号楼门口路灯不亮了")
    offer = console.message_id("需要登记为诉求吗")
    sent = console.run(f"/reply {offer} 哦")
    assert console.in_chat("3号楼业主群", sent) == ["抱歉，没看明白您的意思。需要登记为诉求吗？回复 1 登记，回复 2 不用。"]
    sent = console.run("不用登记了 谢谢")
    assert console.in_chat("3号楼业主群", sent) == ["好的，不登记。需要时发「#投诉 内容」或「#微心愿 内容」即可。"]
    assert request(console, 4) is None


def test_offer_answers_in_plain_words_are_read_as_yes_or_no():
    from handlers.offer_words import read_offer_answer
    yes = ("好的登记吧", "嗯嗯 帮我登记", "算了 还是登记一下吧", "登记", "好的 登记一下", "1", "yes", "要", "yes please")
    no = ("2", "不用", "不用了 谢谢", "不要登记", "别登记了", "算了", "no thanks")
    assert [read_offer_answer(w) for w in yes] == [True] * len(yes)
    assert [read_offer_answer(w) for w in no] == [False] * len(no)
    assert read_offer_answer("哦") is None and read_offer_answer("3号楼的电梯好像又坏了 要找人来修一下才行") is None


def test_a_vague_yes_long_after_an_offer_files_nothing_and_a_later_score_is_no_change_of_mind(console):
    console.run("3号楼的楼道灯坏了")
    sent = console.run("/advance 1h\n好冷啊")
    assert console.in_chat("3号楼业主群", sent) == [] and request(console, 1) is None, "chatter, not an answer"
    sent = console.run("登记吧")
    assert console.in_chat("3号楼业主群", sent)[0].startswith("收到，已登记为 诉求#1")
    console.run("5号楼下水道堵了\n2\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管\n/as 王阿姨\n/in 3号楼业主群\n/advance 1h")
    console.run("1")  # her score of the lights, not a change of mind about the drain
    assert request(console, 1).rating == 1 and request(console, 2) is None


def test_a_private_message_that_may_only_be_talk_is_asked_about_not_filed(console):
    """Privately, words the reader takes for a request without being sure ("暖气片摸着温乎乎的" may be a report, or
    only talk) are asked about as in a group, not filed at once; a clear report still is."""
    text = "家里暖气片摸着温乎乎的"
    reader = console.app.services.reader
    model = reader.model
    kinds = model.scores(reader.features(text))["kind"]
    # The model made exactly unsure of this message: a request ahead of chatter by half the margin to offer.
    bias = model.bias.copy()
    bias[model.classes["kind"].index("complaint")] += OFFER_MARGIN / 2 - (kinds["complaint"] - kinds["none"])
    reader.model = dataclasses.replace(model, bias=bias)
    assert reader.read(text).kind == "complaint" and not reader.read(text).confident

    sent = console.run(f"/in 私聊\n{text}")
    assert console.seen_by("王阿姨", sent) == ["这条消息像是一个供暖问题，需要登记为诉求吗？回复 1 登记，回复 2 不用。"]
    assert request(console, 1) is None
    sent = console.run("1")
    assert console.seen_by("王阿姨", sent)[0].startswith("收到，已登记为 诉求#1（供暖")
    assert request(console, 1).text == text

    reader.model = model
    sent = console.run("3号楼的楼道灯坏了")
    assert console.seen_by("王阿姨", sent)[0].startswith("收到，已登记为 诉求#2（电力照明·3号楼）")


def test_a_plain_yes_or_no_in_the_group_answers_the_offer(console):
    """"嗯嗯 要的", "好滴", "不用了" answer "需要登记吗？" in a group as "1" and "2" do (they were passed over as chatter,
    and the offer lapsed while she thought it filed)."""
    sent = console.run("5号楼下水道堵了\n嗯嗯 要的")
    assert console.in_chat("3号楼业主群", sent)[-1].startswith("收到，已登记为 诉求#1（")
    sent = console.run("6号楼楼道灯晚上都不亮\n不用了")
    assert console.in_chat("3号楼业主群", sent)[-1] == "好的，不登记。需要时发「#投诉 内容」或「#微心愿 内容」即可。"
    sent = console.run("7号楼单元门的门禁坏了 刷不开\n好滴")
    assert console.in_chat("3号楼业主群", sent)[-1].startswith("收到，已登记为 诉求#2（")


def test_where_a_report_is_said_in_plain_words_completes_it(console):
    """"7号楼2单元" after an emergency filed without a place, "我家是2单元301" after a report the grid member needs
    the flat of, and "2单元301" privately when he asks: each completes her report, as 补充 N would (they went
    unanswered, or were met with "没看懂"); a new report naming a place is filed as one."""
    sent = console.run("/in 幸福里大群\n有人被困电梯里了！！快来人\n7号楼2单元")
    assert console.in_chat("幸福里大群", sent)[-1] == "已把补充内容转给 诉求#1 的负责人。"
    placed = request(console, 1)
    assert (placed.building, placed.unit) == ("7", "2")
    assert console.seen_by("刘芳", sent)[0].startswith("⚠️ 紧急 诉求#1：电梯·7号楼2单元（居民补充了位置，现由您负责）")

    sent = console.run("/in 3号楼业主群\n/as 老张\n#报修 我家厨房水管漏水\n我家是2单元301 下午都在家")
    assert console.seen_by("李建国", sent)[-1] == "诉求#2 居民补充：我家是2单元301 下午都在家"
    assert (request(console, 2).unit, request(console, 2).room) == ("2", "301")
    console.run("/as 李大爷\n#报修 我家暖气不热\n/as 李建国\n/in 私聊\n接单 3\n进展 3 请问您家是几单元几号？")
    sent = console.run("/as 李大爷\n/in 私聊\n4单元502")
    assert console.seen_by("李大爷", sent) == ["已把补充内容转给 诉求#3 的负责人。"]
    assert request(console, 3).room == "502"
    sent = console.run("5号楼3单元 电梯又坏了")
    assert "已登记为 诉求#4" in console.seen_by("李大爷", sent)[0]


def test_an_untagged_wish_is_offered_as_a_wish_and_a_withdrawn_emergency_stands_the_leader_down(console):
    """A wish said without its tag is offered as what it will be filed as, a micro-wish for volunteers (it was
    offered as "生活帮扶问题…登记为诉求"); an emergency withdrawn is withdrawn for the leader it alerted too."""
    sent = console.run("希望有志愿者能帮我家老人每周买一次菜 他腿脚不方便")
    assert console.in_chat("3号楼业主群", sent) == [
        "这条消息像是一个微心愿（生活帮扶），需要登记吗？登记后志愿者和党员可以认领。回复 1 登记，回复 2 不用。"]
    assert console.in_chat("3号楼业主群", console.run("1"))[0].startswith("收到您的微心愿，已登记为 微心愿#1")
    console.run("3号楼电梯里困人了 快来")
    sent = console.run("/in 私聊\n撤回 2 搞错了 是在拍视频")
    assert console.seen_by("李建国", sent) == ["诉求#2 已被居民撤回，无需处理。"]
    assert console.seen_by("王强", sent) == ["诉求#2 已被居民撤回，无需处理。"]


def test_an_emergency_taken_back_in_words_is_passed_on_and_she_is_told_how_to_withdraw_it(console):
    """"不是不是 开玩笑的 没事" after her alarm got no reply; whoever was alerted hears it, and she how to withdraw."""
    console.run("3号楼电梯里困人了 快来")
    sent = console.run("不是不是 开玩笑的 没事")
    assert console.in_chat("3号楼业主群", sent) == [
        "已把您的话转给负责人。如果 诉求#1 是误报，请发「撤回 1」，负责人就不用再赶过去了。"]
    assert console.seen_by("李建国", sent) == ["⚠️ 紧急 诉求#1 居民补充：不是不是 开玩笑的 没事"]
    assert request(console, 1).state == "assigned"
    assert console.in_chat("3号楼业主群", console.run("/as 李大爷\n哈哈 开玩笑的")) == []  # not his to take back
