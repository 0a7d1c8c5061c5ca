"""Ratings as residents give them: who decides, one round per 办结, only when asked, and for which request."""
from __future__ import annotations

from storage.models import Rating, Request
from storage.uow import UnitOfWork
from sqlmodel import select


def request(console, number: int) -> Request:
    with UnitOfWork(console.app.db) as uow:
        return uow.requests.get(number)


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
    assert console.seen_by("王阿姨", sent) == ["谢谢您的评价！诉求#1 已记录。"]
    assert console.seen_by("李建国", sent) == ["诉求#1 居民评价 5 分，已关闭。"]
    closed = request(console, 1)
    assert (closed.state, closed.rating, closed.level) == ("closed", 5, 0)
    assert ratings(console, 1) == [("李大爷", 1), ("王阿姨", 5)]


def test_a_followers_satisfied_does_not_close_the_reporters_request(console):
    console.run(DONE)
    console.run("/as 李大爷\n/in 私聊\n满意")
    assert request(console, 1).state == "done"
    sent = console.run("/as 王阿姨\n不满意 没修好")
    assert console.seen_by("王阿姨", sent) == ["抱歉没能让您满意，诉求#1 已重新打开并上报，会尽快再处理。"]
    assert (request(console, 1).state, request(console, 1).rating) == ("reopened", 1)
