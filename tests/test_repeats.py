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
