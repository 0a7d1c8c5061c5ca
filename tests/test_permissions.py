"""The permission table, walked: every command by every kind of person, on the console.

A command the table allows is carried out; one it refuses is answered with a refusal and changes nothing stored.
"""
from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.catalog import Catalog
from handlers.permissions import REFUSED, TABLE
from storage.models import ChatBinding, Event, Follower, FollowUp, Rating, Request
from storage.uow import UnitOfWork

# Who each person on the shipped config is to micro-wish #1 (5号楼, 中区网格: 张伟, volunteer 陈志远).
PEOPLE = {
    "王阿姨": {"anyone", "resident", "reporter"},
    "李大爷": {"anyone", "resident", "follower"},
    "路人": {"anyone", "resident"},
    "张伟": {"anyone", "grid_member", "assignee"},
    "李建国": {"anyone", "grid_member"},               # another grid's member
    "陈志远": {"anyone", "volunteer", "grid_volunteer"},
    "孙丽": {"anyone", "volunteer"},                    # a volunteer, but not one of this grid's
    "王强": {"anyone", "leader", "ladder"},
    "赵书记": {"anyone", "secretary", "ladder"},
    "物业客服": {"anyone", "property"},
}
# The command as typed, and what must have happened to #1 first.
COMMANDS = {
    "claim": ("接单 1", ""), "progress": ("进展 1 已联系电工", "claimed"), "done": ("办结 1 已换好", "claimed"),
    "transfer": ("转派 1 李建国", ""), "escalate": ("上报 1 需要物业配合", ""), "merge": ("合并 1 到 3", ""),
    "reject": ("退回 1 不属于社区", ""), "show": ("详情 1", ""), "withdraw": ("撤回 1", ""),
    "add": ("补充 1 在三楼", ""), "rate": ("评价 1 满意", "done"), "mine": ("我的诉求", ""), "help": ("帮助", ""),
    "bind": ("/bind", ""), "bindchat": ("/bindchat 5号楼", ""), "settle": ("已处理 1", ""), "web": ("网页", ""),
    "overdue": ("超时", ""), "digest": ("日报", ""),
}
CHANGES = {"claim", "progress", "done", "transfer", "escalate", "merge", "reject", "withdraw", "add", "rate",
           "bindchat"}
STORED = (Request, Event, Rating, Follower, FollowUp, ChatBinding)


def test_the_table_covers_every_command():
    assert set(TABLE) == set(COMMANDS)


def stored(console) -> list:
    with UnitOfWork(console.app.db) as uow:
        return [row.model_dump() for model in STORED for row in uow.session.exec(select(model))]


def refusals(command: str, staff_only: bool) -> list[str]:
    catalog = Catalog.load()
    keys = [REFUSED.get(command, "error.not_allowed")] + (["error.staff_only"] if staff_only else [])
    return [catalog.text("zh-CN", key, number=n, ref=f"{kind}#{n}") for key in keys for n in (1, 2)
            for kind in ("诉求", "微心愿")]


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_by_every_person_is_allowed_or_refused_as_the_table_says(console, command, person):
    typed, state = COMMANDS[command]
    console.run("""
        /in 5号楼业主群
        #微心愿 想请人帮忙换一下楼道的灯泡
        #投诉 5号楼门口的路灯坏了
        /as 刘婆婆
        #微心愿 想请人帮忙陪我去医院复查
        /as 李大爷
        /in 私聊
        你好
    """)
    with UnitOfWork(console.app.db) as uow:
        uow.requests.follow(1, uow.people.by_identity("console", "李大爷").id, console.clock.now())
        uow.commit()
    if state:
        console.run("/as 张伟\n接单 1" + ("\n办结 1 已换好" if state == "done" else ""))
    before = stored(console)

    where = "5号楼业主群" if command == "bindchat" else "私聊"
    replies = console.seen_by(person, console.run(f"/as {person}\n/in {where}\n{typed}"))

    # 陈志远 is offered the wish while it waits for a claim, and may read it then.
    relations = PEOPLE[person] | ({"offered"} if person == "陈志远" and not state else set())
    allowed = not TABLE[command].isdisjoint(relations)
    refused = [r for r in replies if any(r.startswith(text) for text in refusals(command, "resident" in PEOPLE[person]))]
    assert replies and bool(refused) != allowed, (command, person, replies)
    if not allowed:
        assert stored(console) == before
    elif command in CHANGES:
        assert stored(console) != before


def test_a_volunteer_of_another_grid_cannot_claim_this_grids_wish(console):
    console.run("/in 5号楼业主群\n#微心愿 想请人帮忙换一下楼道的灯泡")
    assert "只有" in console.seen_by("孙丽", console.run("/as 孙丽\n/in 私聊\n接单 1"))[-1]
    assert any("已接单" in text for text in console.seen_by("陈志远", console.run("/as 陈志远\n/in 私聊\n接单 1")))


def test_a_follower_sees_where_the_request_stands_but_not_the_reporters_words(console):
    console.run("/in 5号楼业主群\n#投诉 5号楼电梯又坏了，我家402老人出不了门\n/as 李大爷\n#投诉 5号楼电梯坏了")
    console.run("/as 张伟\n/in 私聊\n接单 1")
    seen = console.seen_by("李大爷", console.run("/as 李大爷\n/in 私聊\n详情 1"))[-1]
    assert "#1" in seen and "处理中" in seen and "402" not in seen and "王阿姨" not in seen


def test_a_resident_not_involved_is_told_whose_details_these_are_not_that_she_may_not_act(console):
    console.run("#投诉 3号楼电梯又坏了")
    seen = console.seen_by("周叔", console.run("/as 周叔\n/in 私聊\n详情 1"))
    assert seen == ["抱歉，诉求#1 的详情只有反映人、也反映过的邻居和处理它的工作人员能看。"]
