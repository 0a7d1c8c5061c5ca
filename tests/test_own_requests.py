"""Words about a request a resident already has stay with it: a chase, "still broken", a score in a sentence, a
neighbour's "me too". None of them is filed as a new request nobody works on."""
from __future__ import annotations

from sqlmodel import func, select

from storage.models import Follower, Rating, Request
from storage.uow import UnitOfWork


def count_requests(console) -> int:
    with UnitOfWork(console.app.db) as uow:
        return uow.session.exec(select(func.count()).select_from(Request)).one()


def request(console, number: int) -> Request:
    with UnitOfWork(console.app.db) as uow:
        return uow.requests.get(number)


def ratings(console, number: int) -> list[tuple[str, int, str | None]]:
    with UnitOfWork(console.app.db) as uow:
        rows = uow.session.exec(select(Rating).where(Rating.request_id == number).order_by(Rating.id))
        return [(uow.people.get(r.person_id).name, r.score, r.comment) for r in rows]


def timeline(console, number: int):
    with UnitOfWork(console.app.db) as uow:
        return uow.requests.timeline(number)


def followers(console, number: int) -> list[str]:
    with UnitOfWork(console.app.db) as uow:
        rows = uow.session.exec(select(Follower).where(Follower.request_id == number))
        return [uow.people.get(f.person_id).name for f in rows]


LIGHT_DONE = "/in 私聊\n#投诉 3号楼2单元楼道灯不亮了\n/as 李建国\n接单 1\n办结 1 已换灯泡\n/as 王阿姨"


def test_still_broken_after_done_reopens_the_request_she_was_asked_to_rate(console):
    console.run(LIGHT_DONE)
    sent = console.run("灯还是不亮啊 骗人😡 根本没人来换")
    assert count_requests(console) == 1, "no new request without a place"
    assert console.seen_by("王阿姨", sent) == ["抱歉没能让您满意，诉求#1 已重新打开，已上报网格长王强督办，会尽快再处理。"]
    assert console.seen_by("李建国", sent)[0].startswith(
        "诉求#1 居民不满意（1 分），已重新打开并上报网格长王强。留言：灯还是不亮啊 骗人😡 根本没人来换")
    assert (request(console, 1).state, request(console, 1).rating) == ("reopened", 1)


def test_still_broken_with_two_waiting_and_no_telling_which_is_asked_back(console):
    console.run("/in 私聊\n#投诉 3号楼2单元楼道灯不亮了\n#投诉 3号楼垃圾三天没清运了\n"
                "/as 李建国\n接单 1\n办结 1 已换灯泡\n接单 2\n办结 2 已清运\n/as 王阿姨")
    sent = console.run("还是没弄好")
    assert console.seen_by("王阿姨", sent) == [
        "是说哪一件还没办好？诉求#2、诉求#1 都在等您评价。请回复「评价 编号 不满意 原因」，例如「评价 2 不满意 还是不亮」。"]
    assert count_requests(console) == 2 and ratings(console, 1) == ratings(console, 2) == []


def test_a_chase_in_private_joins_her_open_request(console):
    console.run("/in 私聊\n#投诉 3号楼2单元楼道灯不亮了")
    sent = console.run("楼道灯到底什么时候修啊？？？都第二天了")
    assert count_requests(console) == 1
    assert console.seen_by("王阿姨", sent) == ["您反映的 诉求#1（电力照明）目前待接单，由网格员李建国负责；已把您的话转给负责人。"]
    assert console.seen_by("李建国", sent) == ["诉求#1 居民补充：楼道灯到底什么时候修啊？？？都第二天了"]


def test_her_follow_up_in_the_group_is_answered_not_offered_for_filing(console):
    console.run("#投诉 3号楼2单元电梯又坏了，已经两天了没人修")
    sent = console.run("电梯到现在还没修好，我腿脚不好天天爬楼")
    assert count_requests(console) == 1
    assert console.in_chat("3号楼业主群", sent) == ["您反映的 诉求#1（电梯）目前待接单，由网格员李建国负责；已把您的话转给负责人。"]
    assert console.seen_by("李建国", sent) == ["诉求#1 居民补充：电梯到现在还没修好，我腿脚不好天天爬楼"]


def test_status_questions_in_traditional_or_plain_words_get_her_list(console):
    console.run("/in 私聊\n#投诉 3号楼2单元楼道灯不亮了\n#投诉 3号楼垃圾三天没清运了")
    for question in ("修好了嗎", "师傅啥时候来啊"):
        sent = console.run(question)
        assert console.seen_by("王阿姨", sent)[0].startswith("我的诉求：2 件\n#2 环境卫生"), question
    assert count_requests(console) == 2


def test_asking_where_it_stands_after_her_low_score_is_answered_not_passed_on_as_her_reason(console):
    console.run(ELEVATOR_DONE + "\n/in 私聊\n不满意")
    sent = console.run("修好了嗎")
    assert console.seen_by("王阿姨", sent)[0].startswith("我的诉求：1 件\n#1 电梯")
    assert console.seen_by("李建国", sent) == [], "a question is not her reason for the score"


def test_a_group_status_question_from_someone_with_a_request_there_gets_numbers_and_states_only(console):
    console.run("#投诉 3号楼2单元电梯又坏了")
    sent = console.run("/as 张大爷\n#投诉 3号楼电梯还是坏的\n/as 王阿姨\n/as 张大爷\n修好了吗")
    assert console.in_chat("3号楼业主群", sent)[-1] == "诉求#1（电梯）目前待接单。\n详情请私聊我发「我的诉求」。"


ELEVATOR_DONE = "#投诉 3号楼2单元电梯又坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 已修复\n/as 王阿姨"


def test_a_score_inside_a_sentence_in_the_group_rates_and_its_complaint_reaches_the_assignee(console):
    console.run(ELEVATOR_DONE)
    sent = console.run("/in 3号楼业主群\n修好了是修好了 就是还有异响 咯噔咯噔的 吓人😨 给个3分吧")
    assert ratings(console, 1) == [("王阿姨", 3, "修好了是修好了 就是还有异响 咯噔咯噔的 吓人😨")]
    assert console.seen_by("李建国", sent) == ["诉求#1 居民评价 3 分，已关闭。留言：修好了是修好了 就是还有异响 咯噔咯噔的 吓人😨"]
    assert console.in_chat("3号楼业主群", sent) == [], "the confirmation goes privately"
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#1 已关闭。有需要随时找我。"]


def test_plain_words_rate_in_private(console):
    console.run(ELEVATOR_DONE)
    sent = console.run("挺好的")
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#1 已关闭。有需要随时找我。"]
    assert ratings(console, 1) == [("王阿姨", 5, None)]


def test_with_two_waiting_a_bare_score_rates_the_one_asked_last_and_prompts_name_their_number(console):
    sent = console.run("/in 私聊\n#投诉 3号楼2单元楼道灯不亮了\n#投诉 3号楼垃圾三天没清运了\n"
                       "/as 李建国\n接单 1\n接单 2\n办结 1 已换灯泡\n办结 2 已清运")
    prompts = console.seen_by("王阿姨", sent)[-2:]
    assert prompts[0].endswith("请您评价：回复 1–5 分，或 满意 / 基本满意 / 不满意。")
    assert prompts[1].endswith("请您评价：回复「评价 2 满意」（或 基本满意 / 不满意 / 1–5 分）。您还有其他诉求待评价，请带上编号。")
    sent = console.run("/as 王阿姨\n满意")
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#2 已关闭。有需要随时找我。"]
    assert (request(console, 1).state, request(console, 2).state) == ("done", "closed")


NO_WATER = "/as 李四\n/in 8号楼业主群\n#投诉 8号楼停水了"


def test_a_neighbour_adding_to_a_request_follows_it(console):
    console.run(NO_WATER)
    sent = console.run("/as 王五\n/in 私聊\n补充 1 我家也停水了 802")
    assert console.seen_by("王五", sent) == ["已记下您也遇到这个问题，诉求#1（水管）的进展和办结评价会私信告诉您。"]
    assert console.seen_by("刘芳", sent) == ["诉求#1 又有居民（王五）反映：我家也停水了 802"]
    assert followers(console, 1) == ["王五"]
    sent = console.run("/as 刘芳\n接单 1\n办结 1 已恢复供水")
    assert console.seen_by("王五", sent)[-1].startswith("诉求#1（水管）已办结：已恢复供水\n请您评价")


def test_me_too_in_the_group_follows_quietly(console):
    console.run(NO_WATER)
    ack = console.message_id("已登记为 诉求#1")
    sent = console.run(f"/as 孙七\n/reply {ack} +1\n/as 赵六\n我家也停水了\n/as 钱九\n8号楼停水了吗 我家也没水")
    assert console.in_chat("8号楼业主群", sent) == [], "a +1 is not noisy"
    assert sorted(followers(console, 1)) == sorted(["孙七", "赵六", "钱九"])
    assert count_requests(console) == 1
    sent = console.run("/as 周八\n+1")  # answering nothing in particular: it may be about anything
    assert not sent and "周八" not in followers(console, 1)


def test_followers_are_not_told_it_is_their_request_and_examples_show_what_to_write(console):
    console.run("#投诉 3号楼2单元电梯又坏了\n/as 张大爷\n#投诉 3号楼电梯还是坏的")
    sent = console.run("/as 李建国\n/in 私聊\n接单 1")
    assert console.seen_by("张大爷", sent) == ["您也反映过的 诉求#1（电梯）已由网格员李建国（电话 13800000001）接单，正在处理。"]
    sent = console.run("/as 张大爷\n补充")
    assert console.seen_by("张大爷", sent) == ["请写上诉求编号和要补充的内容，例如「补充 37 我住3单元702」。"]


def test_a_first_private_message_in_english_is_answered_in_english_from_then_on(console):
    sent = console.run("/as Tom\n/in 私聊\nhello")
    assert console.seen_by("Tom", sent)[0].startswith("Hello! I'm the community assistant.")
    sent = console.run("my request?")
    assert console.seen_by("Tom", sent) == ["Your requests: 0"]


def test_group_chatter_with_chase_words_is_not_added_to_her_request(console):
    console.run("#投诉 3号楼2单元电梯又坏了")
    sent = console.run("我还没吃饭呢 什么时候开会啊\n我也不知道")
    assert sent == [], "chatter stays chatter"
    with UnitOfWork(console.app.db) as uow:
        assert [e.action for e in uow.requests.timeline(1)] == ["filed", "assigned"]


def test_asked_in_the_group_about_the_lift_she_hears_of_the_lift_and_nothing_else_of_hers(console):
    """"电梯修好了吗" after her lift was fixed and closed: the group hears the lift is done, and none of her other
    requests; asked with no category, with several, her list goes privately."""
    console.run(ELEVATOR_DONE + "\n/in 私聊\n满意\n#投诉 3号楼3单元水管漏水\n#微心愿 3号楼2单元 想请人帮忙买菜\n/in 3号楼业主群")
    sent = console.run("电梯修好了吗")
    assert console.in_chat("3号楼业主群", sent) == [
        "诉求#1（电梯）已办结，已关闭。如果问题又出现了，请告诉我。\n详情请私聊我发「我的诉求」。"]
    sent = console.run("修好了吗")
    assert console.in_chat("3号楼业主群", sent) == ["您有 3 件诉求，清单已私信发给您。"]
    assert console.seen_by("王阿姨", sent)[0].startswith("我的诉求：3 件")


def test_her_chase_in_the_group_reaches_her_late_request_though_the_reader_files_nothing(console):
    """"漏水的事到底有没有人管啊" names no category the reader would file, and her leak is at her mother's in
    building 5: it was dropped in the group, though the same words privately reached the grid member."""
    console.run("/in 私聊\n#投诉 5号楼3单元卫生间水管漏水\n/advance 1d\n/in 3号楼业主群")
    sent = console.run("漏水的事到底有没有人管啊 天花板都鼓包了")
    assert console.in_chat("3号楼业主群", sent) == [
        "您反映的 诉求#1（水管）目前待接单，由网格员张伟负责；已把您的话转给负责人。"]
    assert console.seen_by("张伟", sent) == ["诉求#1 居民补充：漏水的事到底有没有人管啊 天花板都鼓包了"]
    assert [e.note for e in timeline(console, 1) if e.action == "detail"] == ["漏水的事到底有没有人管啊 天花板都鼓包了"]
    assert count_requests(console) == 1


def test_an_english_chase_reaches_the_request_he_follows(console):
    console.run("#投诉 3号楼2单元电梯又坏了\n/as Tom\n/in 私聊\n#complaint the lift in building 3 is broken again")
    sent = console.run("is anyone fixing the lift??")
    assert console.seen_by("Tom", sent)[0].startswith("request #1 (lift)")
    assert "passed your words on" in console.seen_by("Tom", sent)[0]
    assert [e.note for e in timeline(console, 1) if e.action == "detail"] == ["is anyone fixing the lift??"]


def test_neighbours_confirming_an_emergency_follow_it_and_its_grid_member_hears_at_once(console):
    """"+1 我家也是" and "我也闻到了" after a fire report were dropped while other complaints were open in the
    building; a confirmation of an emergency joins it, and the grid member hears it at once, as urgent news."""
    console.run("#投诉 3号楼2单元电梯又坏了\n/in 私聊\n#投诉 3号楼3单元水管漏水\n/in 3号楼业主群\n"
                "楼下有股焦糊味 好像哪家着火了")
    for words in ("+1 我家也是", "我也闻到了"):
        sent = console.run(f"/as 王五\n{words}")
        assert console.seen_by("王五", sent) == [
            "已记下您也遇到这个问题，诉求#3（安全隐患）的进展和办结评价会私信告诉您。"], words
        assert console.seen_by("李建国", sent)[0].startswith("⚠️ 紧急 诉求#3"), words
    assert followers(console, 3) == ["王五"]
    assert [e.note for e in timeline(console, 3) if e.action in ("followed", "detail")] == ["+1 我家也是", "我也闻到了"]
    sent = console.run("我的诉求")
    assert console.in_chat("3号楼业主群", sent) == ["您有 1 件诉求，清单已私信发给您。"]
    console.run("/as 王阿姨\n3号楼门口的路灯不亮了")  # offered to her: a "+1" now is about the lights
    console.run("/as 王六\n+1 我家也是")
    assert followers(console, 3) == ["王五"]


def test_a_me_too_after_a_gas_report_follows_it(console):
    console.run("#投诉 3号楼2单元电梯又坏了\n#投诉 3号楼垃圾三天没清运了\n/as 李四\n3号楼有煤气味 好浓")
    sent = console.run("/as 张三\n+1 我家也是")
    assert followers(console, 3) == ["张三"]
    assert console.seen_by("李建国", sent)[0].startswith("⚠️ 紧急 诉求#3")
