"""Ratings as residents give them: who decides, one round per 办结, only when asked, and for which request."""
from __future__ import annotations

import asyncio

from handlers.commands import is_verdict
from handlers.messages import Inbound
from storage.models import Rating, Request
from storage.uow import UnitOfWork
from sqlmodel import select


def request(console, number: int) -> Request:
    with UnitOfWork(console.app.db) as uow:
        return uow.requests.get(number)


def timeline(console, number: int):
    with UnitOfWork(console.app.db) as uow:
        return uow.requests.timeline(number)


def ratings(console, number: int) -> list[tuple[str, int]]:
    with UnitOfWork(console.app.db) as uow:
        rows = uow.session.exec(select(Rating).where(Rating.request_id == number).order_by(Rating.id))
        return [(uow.people.get(r.person_id).name, r.score) for r in rows]


DONE = "#投诉 3号楼电梯坏了\n/as 李大爷\n#报修 电梯又不动了，3号楼\n/as 李建国\n/in 私聊\n接单 1\n办结 1 已修复"


def test_a_followers_score_is_hers_and_the_reporter_still_decides(console):
    console.run(DONE)
    sent = console.run("/as 李大爷\n/in 私聊\n不满意 还是慢")
    assert console.seen_by("李大爷", sent) == ["谢谢您的评价！诉求#1 已记录。"]
    assert not console.seen_by("王强", sent), "a follower's 不满意 escalates nothing"
    assert request(console, 1).state == "done"

    sent = console.run("/as 王阿姨\n满意")
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#1 已关闭。有需要随时找我。"]
    assert console.seen_by("李建国", sent) == ["诉求#1 居民评价 5 分，已关闭。"]
    closed = request(console, 1)
    assert (closed.state, closed.rating, closed.level) == ("closed", 5, 0)
    assert ratings(console, 1) == [("李大爷", 1), ("王阿姨", 5)]


def test_a_followers_satisfied_does_not_close_the_reporters_request(console):
    console.run(DONE)
    console.run("/as 李大爷\n/in 私聊\n满意")
    assert request(console, 1).state == "done"
    sent = console.run("/as 王阿姨\n不满意 没修好")
    assert console.seen_by("王阿姨", sent) == ["抱歉没能让您满意，诉求#1 已重新打开，已上报网格长王强督办，会尽快再处理。"]
    assert (request(console, 1).state, request(console, 1).rating) == ("reopened", 1)


def test_every_done_starts_a_fresh_rating_round(console):
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管\n/as 王阿姨\n不满意 还是不亮")
    sent = console.run("/as 李建国\n办结 1 更换了整条线路")  # the same minute: the clock did not move
    assert console.seen_by("王阿姨", sent)[-1].startswith("诉求#1（电力照明）已办结：更换了整条线路\n请您评价")
    sent = console.run("/advance 1d")
    assert [t[:18] for t in console.seen_by("王阿姨", sent)] == ["诉求#1（电力照明）还等您评价：回复"]
    sent = console.run("/as 王阿姨\n4")
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#1 已关闭。有需要随时找我。"]
    assert (request(console, 1).state, request(console, 1).rating) == ("closed", 4)


def test_a_redone_request_closes_unrated_a_full_week_after_its_last_done(console):
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管\n/as 王阿姨\n不满意 还是不亮")
    console.run("/advance 2d\n/as 李建国\n办结 1 更换了整条线路\n/advance 6d")
    assert request(console, 1).state == "done", "seven days after the first 办结 is not the end of this round"
    sent = console.run("/as 王阿姨\n评价 1 4")
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#1 已关闭。有需要随时找我。"]
    assert request(console, 1).rating == 4


def test_a_rating_is_taken_only_while_one_is_asked_for(console):
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1")
    sent = console.run("/as 王阿姨\n/in 私聊\n评价 1 满意")
    assert console.seen_by("王阿姨", sent) == ["诉求#1 还没有办结，办结后会请您评价。"]
    console.run("/as 李建国\n办结 1 换了灯管\n/as 王阿姨\n不满意 还是不亮")
    sent = console.run("评价 1 满意")
    assert console.seen_by("王阿姨", sent) == ["诉求#1 已重新打开，正在再次处理，办结后会再请您评价。"]
    assert (request(console, 1).state, request(console, 1).rating) == ("reopened", 1)
    assert ratings(console, 1) == [("王阿姨", 1)]
    console.run("/as 李建国\n办结 1 更换了整条线路\n/as 王阿姨\n满意")
    sent = console.run("评价 1 3")
    assert console.seen_by("王阿姨", sent) == ["您已经评价过 诉求#1，谢谢！"]
    sent = console.run("/as 李大爷\n/in 私聊\n评价 1 3")
    assert console.seen_by("李大爷", sent) == ["抱歉，诉求#1 不是您反映的。"]
    assert ratings(console, 1) == [("王阿姨", 1), ("王阿姨", 5)]


def test_a_follower_who_answers_after_the_reporter_closed_it_is_told_so(console):
    console.run(DONE + "\n/as 王阿姨\n/in 私聊\n满意")
    console.run("/advance 8d")  # past the rating window of that 办结
    sent = console.run("/as 李大爷\n/in 私聊\n评价 1 4")
    assert console.seen_by("李大爷", sent) == ["诉求#1 已关闭，不再接受评价。"]
    assert ratings(console, 1) == [("王阿姨", 5)]


def test_a_follower_asked_to_rate_still_can_after_the_reporter_closed_it(console):
    console.run(DONE)
    sent = console.run("/as 王阿姨\n/in 私聊\n满意")
    assert console.seen_by("李大爷", sent) == [
        "诉求#1（电梯）反映人已评价，已关闭。您也可以评价：回复「评价 1 满意」（或 基本满意 / 不满意，可附上原因）。"]
    sent = console.run("/as 李大爷\n/in 私聊\n不满意，还是有异响")
    assert console.seen_by("李大爷", sent) == ["谢谢您的评价！诉求#1 已记录。"]
    assert console.seen_by("李建国", sent) == ["诉求#1 也反映过此事的居民李大爷不满意（1 分）。留言：还是有异响"]
    assert ratings(console, 1) == [("王阿姨", 5), ("李大爷", 1)]
    assert request(console, 1).state == "closed", "the reporter's score decided; his words reached the assignee"


TWO_DONE = """#投诉 3号楼楼道灯坏了
#投诉 3号楼垃圾三天没清运了
#微心愿 3号楼想请人帮忙换个灯泡
/as 李建国
/in 私聊
接单 1
接单 2
接单 3
办结 1 换了灯管
/advance 1m
办结 2 已清运
/advance 1m
办结 3 灯泡换好了"""


def quote(console, text: str, quoted: str) -> list[str]:
    """王阿姨 answers in the group by quoting a bot message, as WeChat delivers it (the adapter's Inbound)."""
    console.session.count += 1
    console.app.handle(Inbound(channel="console", chat_id="3号楼业主群", chat_kind="group", sender_id="王阿姨",
                               sender_name="王阿姨", text=text, message_id=f"q{console.session.count}",
                               quoted=quoted))
    asyncio.run(console.app.drain())
    return console.seen_by("王阿姨", console.run("/who"))


def test_an_answer_quoting_a_rating_prompt_rates_the_request_it_names(console):
    console.run(TWO_DONE)
    assert quote(console, "不满意", "小区助手：@王阿姨 诉求#1（电力照明）已办结：换了灯管\n请您评价") == [
        "抱歉没能让您满意，诉求#1 已重新打开，已上报网格长王强督办，会尽快再处理。"]
    assert quote(console, "5分", "小区助手：微心愿#3（生活帮扶）还等您评价：回复") == ["谢谢您的评价！微心愿#3 已关闭。有需要随时找我。"]
    assert [request(console, n).state for n in (1, 2, 3)] == ["reopened", "done", "closed"]
    assert quote(console, "满意", "诉求#1（电力照明）已办结：换了灯管\n请您评价") == [
        "诉求#1 已重新打开，正在再次处理，办结后会再请您评价。"], "never the newest waiting one instead"
    assert request(console, 2).state == "done"


def test_a_reply_to_a_message_about_a_request_rates_that_request(console):
    console.run(TWO_DONE)
    done_note = console.message_id("诉求#1（电力照明）已办结：换了灯管\n请您评价：回复 1–5 分，或 满意 / 基本满意 / 不满意。")
    sent = console.run(f"/as 王阿姨\n/in 私聊\n/reply {done_note} 不满意")
    assert console.seen_by("王阿姨", sent) == [
        "抱歉没能让您满意，诉求#1 已重新打开，已上报网格长王强督办，会尽快再处理。哪里不满意？直接回复我，我会转给负责人。"]
    assert [request(console, n).state for n in (1, 2, 3)] == ["reopened", "done", "done"]


def test_a_score_nobody_asked_for_is_answered_and_files_nothing(console):
    sent = console.run("/in 私聊\n不满意 还是不热\n5")
    assert console.seen_by("王阿姨", sent) == ["您目前没有待评价的诉求。如要反映新问题，请发「#投诉 内容」。"] * 2
    assert request(console, 1) is None
    sent = console.run("/in 3号楼业主群\n满意")  # said to a neighbour in the group: chatter, left alone
    assert sent == []
    sent = console.run("/in 私聊\n不满意 3号楼电梯困人了")  # an emergency is never swallowed
    assert console.seen_by("王阿姨", sent)[0].split("\n")[2].startswith("⚠️ 紧急 诉求#1")


def test_only_a_verdict_is_taken_for_one_when_nothing_waits(console):
    assert [is_verdict(text) for text in ("不满意 还是不热", "4分 很及时", "5", "满意", "satisfied")] == [True] * 5
    assert [is_verdict(text) for text in ("一般楼道灯晚上都不亮", "3 号楼电梯坏了", "还行吧我去看看", "ok")] == [False] * 4
    assert quote(console, "满意", "李大爷：楼下的花开了") == [], "a neighbour's words quoted in the group are chatter"
    assert quote(console, "满意", "小区助手：诉求#1（电力照明）已办结：换了灯管\n请您评价") == [
        "您目前没有待评价的诉求。如要反映新问题，请发「#投诉 内容」。"], "the bot's own words quoted are for the bot"


def test_the_reason_for_a_low_score_said_next_reaches_the_assignee(console):
    """'不满意', then the why in a second message: her words reach the grid member, never a 'not understood'."""
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管\n/as 王阿姨")
    console.run("不满意")
    sent = console.run("还是一闪一闪的，晚上看不清")
    assert console.seen_by("王阿姨", sent) == [
        "已把您说的原因转给 诉求#1 的负责人。如果这是另一件新问题，请发「#投诉 内容」。"]
    assert console.seen_by("李建国", sent) == ["诉求#1 居民补充：还是一闪一闪的，晚上看不清"]
    assert [e.note for e in timeline(console, 1) if e.action == "detail"] == ["还是一闪一闪的，晚上看不清"]
    sent = console.run("/advance 13h\n谢谢")  # the next day, words with nothing in them are not taken as a reason
    assert console.seen_by("李建国", sent) == []
    assert request(console, 2) is None


def test_a_reason_is_taken_only_from_the_resident_who_gave_the_low_score(console):
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管\n/as 王阿姨\n不满意")
    sent = console.run("/as 张三\n/in 私聊\n还是一闪一闪的")
    assert console.seen_by("张三", sent)[0].startswith("我没有看懂这条消息")
    assert console.seen_by("李建国", sent) == []


def test_after_a_low_score_with_its_reason_her_later_words_are_not_taken_as_one(console):
    """She gave her reason with the score: nothing more is asked, so nothing she says next is forwarded as one;
    a command, another problem, a question or chatter is answered as it would be on any day."""
    console.run("/in 私聊\n#投诉 5号楼3单元卫生间水管漏水\n#投诉 7号楼1单元楼道灯不亮了\n"
                "/as 张伟\n/in 私聊\n接单 1\n办结 1 已换水管\n/as 王阿姨\n/in 私聊\n不满意 还在滴水 天花板也没人给修")
    sent = console.run("楼道灯不用修了 自己又亮了\n/foo\n电梯？？？\n/advance 1h\n今天天气不错")
    said = console.seen_by("王阿姨", sent)
    assert len(said) == 4 and not any("原因" in line for line in said), said
    assert said[0].startswith("您反映的 诉求#2（电力照明）"), "the lights' words reach the lights' request"
    assert said[2].startswith("我的诉求：2 件"), "'电梯？？？' asks how hers stand"
    assert console.seen_by("张伟", sent) == [], "the leak's grid member hears none of it"
    assert [e.note for e in timeline(console, 1) if e.action == "detail"] == []
    assert [e.note for e in timeline(console, 2) if e.action == "detail"] == ["楼道灯不用修了 自己又亮了"]


def test_only_her_first_words_right_after_a_bare_low_score_are_its_reason(console):
    console.run("#投诉 3号楼楼道灯坏了\n/as 李建国\n/in 私聊\n接单 1\n办结 1 换了灯管\n/as 王阿姨\n/in 私聊\n不满意")
    sent = console.run("/foo")  # asked why, she typed something else: answered as such, and the question lapses
    assert console.seen_by("李建国", sent) == [] and "原因" not in console.seen_by("王阿姨", sent)[0]
    sent = console.run("师傅根本没来看")  # still heard: as what it is, a chase, not as the reason asked for
    assert console.seen_by("王阿姨", sent) == ["您反映的 诉求#1（电力照明）目前重新打开，由网格员李建国负责；已把您的话转给负责人。"]
    console.run("/as 李建国\n办结 1 又换了一次\n/as 王阿姨\n不满意")
    sent = console.run("/advance 31m\n还是一闪一闪的")  # the question lapsed: not forwarded as her reason
    assert not any("原因" in line for line in console.seen_by("王阿姨", sent))
