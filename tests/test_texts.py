"""What residents and staff read: every text as a new user would meet it, on the console."""
from __future__ import annotations

from tests.conftest import Console


def test_quoted_words_leave_out_the_tag_that_only_told_the_bot_what_they_were(console):
    sent = console.run("""
#投诉 3号楼2单元电梯又坏了
#微心愿 想请人帮忙换一下厨房的灯泡
/as 张三
#报修 3号楼2单元电梯又坏了，按钮没反应
/as 李建国
/in 私聊
详情 1
""")
    quoted = console.seen_by("李建国", sent) + console.seen_by("陈志远", sent)
    assert not [text for text in quoted if "#" + "投诉" in text or "#微心愿" in text or "#报修" in text]
    assert "内容：3号楼2单元电梯又坏了" in console.seen_by("李建国", sent)[0]
    assert console.seen_by("陈志远", sent)[0].startswith("微心愿#2（3号楼）：想请人帮忙换一下厨房的灯泡")
    assert "又有居民（张三）反映：3号楼2单元电梯又坏了，按钮没反应" in console.seen_by("李建国", sent)[2]


def test_tags_written_in_traditional_characters_or_full_width_are_left_out_too(console):
    sent = console.run("#報修 3號樓2單元電梯壞了\n/as 張先生\n＃投訴 5号楼门口路灯不亮\n/as 李建国\n/in 私聊")
    notices = console.seen_by("李建国", sent) + console.seen_by("张伟", sent) + console.seen_by("刘芳", sent)
    assert len(notices) == 2 and not [t for t in notices if "報修" in t or "投訴" in t or "＃" in t]
    assert any("内容：3號樓2單元電梯壞了" in t for t in notices)


def test_staff_texts_about_a_micro_wish_call_it_a_micro_wish(console):
    sent = console.run("""
#微心愿 想请人帮忙换一下厨房的灯泡
/as 李建国
/in 私聊
接单 1
进展 1 已约好周六上门
办结 1 已换好
/as 王阿姨
/in 3号楼业主群
满意
""")
    staff = console.seen_by("李建国", sent)
    assert staff[0].startswith("新微心愿#1：生活帮扶·3号楼")
    assert "微心愿#1 的进展已记录并告知居民。" in staff
    assert staff[-1] == "微心愿#1 居民评价 5 分，已关闭。"
    assert not [text for text in staff if "诉求#1" in text]


def test_an_empty_list_says_how_many_rather_than_ending_in_a_colon(console):
    sent = console.run("/as 张伟\n/in 私聊\n我的\n/as 王阿姨\n我的诉求")
    assert console.seen_by("张伟", sent) == ["待我处理：0 件"]
    assert console.seen_by("王阿姨", sent) == ["我的诉求：0 件"]


def test_details_show_the_score_and_whom_it_went_to_and_no_deadline_once_finished(console):
    console.run("#投诉 3号楼2单元电梯又坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 修好了")
    sent = console.run("/as 王阿姨\n/in 私聊\n4 很及时\n详情 1\n我的诉求")
    detail, mine = console.seen_by("王阿姨", sent)[1:]
    assert detail.startswith("诉求#1 电梯·3号楼2单元\n状态：已关闭，负责人：李建国\n内容：")
    assert "级别" not in detail and "时限" not in detail
    assert "系统 分派 给网格员李建国" in detail and "王阿姨 评价 4 分 很及时" in detail
    assert mine == "我的诉求：1 件\n#1 电梯·3号楼2单元·已关闭"

    console.run("#投诉 3号楼路灯不亮了\n撤回 2")
    sent = console.run("我的诉求\n详情 2")
    assert "#2 电力照明·3号楼·已撤回\n" in console.seen_by("王阿姨", sent)[0] + "\n"
    assert "时限" not in console.seen_by("王阿姨", sent)[1]


def test_details_of_an_open_escalated_request_keep_its_deadlines_and_say_to_whom(console):
    console.run("#投诉 3号楼2单元电梯又坏了\n/as 李建国\n/in 私聊\n接单 1\n上报 1 需要维保公司")
    detail = console.seen_by("李建国", console.run("详情 1"))[0]
    assert "状态：处理中（已上报网格长王强），负责人：李建国\n响应时限 11-23 11:00，办结时限 11-24 10:00" in detail
    assert "李建国 上报 给网格长王强 需要维保公司" in detail


def test_the_acknowledgement_names_who_handles_it_with_a_work_phone_but_never_a_volunteers(settings, clock):
    members = [m.model_copy(update={"phone": "13700000006"}) if m.id == "chen_zhiyuan" else m
               for m in settings.community.members]
    settings = settings.model_copy(update={"community": settings.community.model_copy(update={"members": members})})
    console = Console(settings, clock)
    try:
        sent = console.run("#投诉 3号楼2单元电梯坏了，我电话13912345678\n#微心愿 想请人帮忙换灯泡")
        group = console.in_chat("3号楼业主群", sent)
        assert "由网格员李建国负责" in group[0], "a work phone is for the resident, not the whole building"
        assert "1391234" not in "".join(group) and "138000" not in "".join(group)
        sent = console.run("/in 私聊\n#投诉 3号楼2单元楼道灯不亮")
        assert "由网格员李建国（电话 13800000001）负责" in console.seen_by("王阿姨", sent)[0]
        console.run("/in 3号楼业主群")
        sent = console.run("/as 陈志远\n/in 私聊\n接单 2")
        assert console.seen_by("王阿姨", sent) == ["您的 微心愿#2 已由志愿者陈志远认领。TA 会通过我给您留言约时间；您也可以回复「补充 2 门牌号和方便的时间」告诉 TA。"]
    finally:
        console.app.db.dispose()


def test_an_urgent_report_the_grid_leader_triages_does_not_name_the_leader_twice(console):
    sent = console.run("/in 幸福里大群\n有人被困在电梯里了，快来人")
    ack = console.in_chat("幸福里大群", sent)[0]
    assert "已立即通知网格长王强。" in ack
    sent = console.run("/in 3号楼业主群\n3号楼2单元电梯里有人被困住了")
    assert "已立即通知网格员李建国和网格长。" in console.in_chat("3号楼业主群", sent)[0]


def test_a_volunteer_is_told_the_points_she_earned_and_her_total(console):
    sent = console.run("#微心愿 想请人帮忙换灯泡\n/as 陈志远\n/in 私聊\n接单 1\n办结 1 已换好")
    assert console.seen_by("陈志远", sent)[1:] == [
        "已接单 微心愿#1（生活帮扶·3号楼），11-30 10:00 前办结。\n上门前请先和心愿人约好：发「进展 1 您想说的话」给 TA 留言，TA 的回复会转给您。",
        "🌟 认领微心愿#1，积分 +5，累计 5 分。",
        "微心愿#1 已办结，已请居民评价。",
        "🌟 完成微心愿#1，积分 +10，累计 15 分。谢谢您！",
    ]
    sent = console.run("/as 王阿姨\n/in 3号楼业主群\n#微心愿 想请人陪我去医院\n/as 陈志远\n/in 私聊\n接单 2")
    assert "🌟 认领微心愿#2，积分 +5，累计 20 分。" in console.seen_by("陈志远", sent)


def test_someone_trapped_in_a_lift_is_told_the_lift_emergency_line_beside_119_before_anything_else(console):
    sent = console.run("3号楼2单元电梯里有人被困住了")
    assert console.in_chat("3号楼业主群", sent)[0].startswith(  # on a phone the first line is the one she reads
        "🚨 请立即拨打 119 或 96333（电梯应急电话）！\n被困的人不要扒门、不要强行爬出，按电梯里的警铃，等待救援。\n⚠️ 紧急 诉求#1")
    sent = console.run("3号楼楼道里着火了，好多烟")  # a fire is a call, whether or not she thinks a life is at risk
    assert console.in_chat("3号楼业主群", sent)[0].startswith(
        "🚨 请立即拨打 119！\n远离起火或冒火花的地方，能断电先断电；有烟就用湿毛巾捂住口鼻，走楼梯撤离，不要坐电梯。\n⚠️ 紧急")


def test_a_gas_smell_is_told_what_to_do_before_help_comes_and_a_burst_pipe_too_though_no_number_to_call(console):
    sent = console.run("楼道里一股煤气味 好冲")
    assert console.in_chat("3号楼业主群", sent)[0].startswith(
        "🚨 请立即拨打 119！\n电话请到室外再打：在屋里不要开关电灯电器、不要点火；打开门窗，让家里人都撤出来，再拨打燃气抢修电话。\n")
    sent = console.run("/as 李四\n5号楼302水管爆了 家里全是水")
    said = console.in_chat("3号楼业主群", sent)[0]
    assert "拨打" not in said and said.startswith("先关掉总水阀，进水的房间先断电，贵重物品挪到高处。\n⚠️ 紧急 诉求#2")


def test_an_english_emergency_is_told_its_steps_in_english(console):
    sent = console.run("/as Tom\nThere is a gas leak in building 3, smells of gas everywhere")
    assert console.in_chat("3号楼业主群", sent)[0].startswith(
        "🚨 Call 119 now!\nMake the call from outside: indoors, do not switch lights or appliances on or off and make "
        "no flame; open the windows, get everyone out, then call the gas company's emergency line too.\n⚠️ URGENT")


def test_the_digest_counts_lateness_from_the_missed_deadline_and_names_the_unplaced_row(console):
    console.run("#投诉 3号楼2单元电梯又坏了\n/in 幸福里大群\n#投诉 路灯坏了")
    sent = console.run("/advance 22h")  # Tuesday 08:00: the digest
    digest = console.seen_by("赵书记", sent)[-1]
    assert "#1 电梯·3号楼2单元·待接单·接单已超时 21 小时" in digest  # respond-by was 11:00
    assert "#2 电力照明·位置待确认·待接单·接单已超时 20 小时" in digest  # respond-by was 12:00
    assert "\n  位置待确认：1/0/1/1\n" in digest and "-：" not in digest


def test_a_jump_past_the_deadline_skips_the_stale_reminder_and_the_escalation_says_what_to_do(console):
    console.run("#投诉 3号楼2单元电梯又坏了")  # respond by 11:00; the reminder was due at 10:30
    sent = console.run("/advance 2h")
    assert console.seen_by("李建国", sent) == [
        "诉求#1（电梯·3号楼2单元）超过响应时限无人接单，已上报给网格长王强（接单已超时 1 小时，11-24 10:00 前办结）。"
        "仍请您尽快接单：回复「接单 1」。"]
    leader = console.seen_by("王强", sent)
    assert leader[0].startswith("⬆️ 诉求#1（电梯·3号楼2单元）已上报到您：超过响应时限无人接单。负责人：李建国，状态：待接单，"
                             "接单已超时 1 小时，11-24 10:00 前办结。\n")
    assert "说明" not in leader[0], "an automatic escalation has no note to show, not 说明：-"


def test_a_reopened_request_tells_the_grid_member_once_and_the_leader_the_residents_words(console):
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管")
    sent = console.run("/as 王阿姨\n/in 私聊\n不满意 还是不亮")
    assert len(console.seen_by("李建国", sent)) == 1
    assert "状态：重新打开，11-25 10:00 前办结。说明：还是不亮\n" in console.seen_by("王强", sent)[0]


def test_a_wish_with_no_place_says_who_has_it_rather_than_that_volunteers_were_asked(console):
    sent = console.run("/in 幸福里大群\n#微心愿 想请人帮忙换灯泡")
    ack = console.in_chat("幸福里大群", sent)[0]
    assert ack.startswith("收到，已登记为 微心愿#1（生活帮扶·位置待确认），由网格长王强负责")
    assert not console.seen_by("陈志远", sent) and not console.seen_by("孙丽", sent)


def test_the_grid_members_own_escalation_says_to_whom_not_a_level(console):
    sent = console.run("#投诉 3号楼2单元电梯又坏了\n/as 李建国\n/in 私聊\n接单 1\n上报 1 需要维保公司到场")
    assert console.seen_by("李建国", sent)[-1] == "诉求#1 已上报给网格长王强。"


def test_staff_read_a_report_in_their_own_language_whatever_the_reporters(console):
    sent = console.run("/as Tom\n#wish could someone help me change a light bulb in building 3\n/in 私聊\nshow 1")
    assert console.seen_by("陈志远", sent)[0].startswith("微心愿#1（3号楼）：could someone help me change")
    show = console.seen_by("Tom", sent)[-1]
    assert show.startswith("Details of wish #1: personal help, building 3\n")
    assert "system assigned to grid member 李建国" in show


def test_a_refusal_about_a_micro_wish_calls_it_a_micro_wish(console):
    sent = console.run("#微心愿 想请人帮忙换灯泡\n/as 孙丽\n/in 私聊\n接单 1\n办结 1 已换好\n/as 陈志远\n接单 1\n/as 张三\n评价 1 满意")
    assert console.seen_by("陈志远", sent)[-1] == "微心愿#1 目前「已办结待评价」，不能接单。"
    assert console.seen_by("张三", sent) == ["抱歉，微心愿#1 不是您反映的。"]


def test_a_reporter_reads_her_timeline_without_her_neighbours_names_or_words(console):
    console.run("#投诉 3号楼2单元电梯坏了\n/as 张三\n#投诉 3号楼电梯还是坏的，按钮不灵，我家在1201")
    mine = console.seen_by("王阿姨", console.run("/as 王阿姨\n/in 私聊\n详情 1"))[0]
    assert "另一位居民" in mine and "张三" not in mine and "按钮不灵" not in mine and "1201" not in mine
    staff = console.seen_by("李建国", console.run("/as 李建国\n详情 1"))[0]
    assert "张三" in staff and "按钮不灵" in staff, "the grid member reads it all"


def test_only_the_same_problem_merges(console):
    console.run("#投诉 3号楼电梯坏了\n3号楼楼道有股煤气味，很呛\n#投诉 3号楼楼道灯不亮\n/in 5号楼业主群\n5号楼电梯里有人被困住了")
    sent = console.run("/as 王强\n/in 私聊\n合并 2 到 1\n合并 3 1\n合并 4 到 1")
    assert console.seen_by("王强", sent) == [
        "诉求#2（安全隐患）和 诉求#1（电梯）不是同一类问题，不能合并。",
        "诉求#3（电力照明）和 诉求#1（电梯）不是同一类问题，不能合并。",
        "诉求#4 是紧急诉求，不能合并到非紧急的 诉求#1；如是同一问题，请发「合并 1 到 4」。"]


def test_a_particle_after_a_verdict_is_no_comment_and_an_empty_list_is_said_plainly(console):
    console.run("#投诉 3号楼楼道灯不亮\n/as 李建国\n/in 私聊\n接单 1\n办结 1 已换灯泡")
    sent = console.run("/as 王阿姨\n/in 3号楼业主群\n基本满意吧")
    assert console.seen_by("李建国", sent) == ["诉求#1 居民评价 3 分，已关闭。"]
    sent = console.run("/as 新来的\n我的诉求")
    assert console.in_chat("3号楼业主群", sent) == ["您目前没有反映过的诉求。反映问题请发「#投诉 内容」。"]
