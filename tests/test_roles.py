"""Who may see and do what: details, each role's work list, binding accounts and chats."""
from __future__ import annotations

from storage.uow import UnitOfWork

REFUSED = "抱歉，只有 诉求#1 的负责人、网格长或书记可以这样操作。"


def test_the_grid_member_sees_the_details_of_a_wish_in_his_grid_a_volunteer_claimed(console):
    console.run("#微心愿 我是3号楼独居老人，想请人帮忙换一下厨房的灯泡")
    sent = console.run("/as 陈志远\n/in 私聊\n详情 1")  # offered to him: he may look before he claims
    assert console.seen_by("陈志远", sent)[0].startswith("诉求#1 微心愿·生活帮扶·3号楼")
    console.run("/as 孙丽\n接单 1")
    sent = console.run("/as 李建国\n详情 1\n/as 张伟\n详情 1\n/as 陈志远\n详情 1")
    shown = console.seen_by("李建国", sent)
    assert len(shown) == 1 and shown[0].startswith("诉求#1 微心愿·生活帮扶·3号楼") and "孙丽" in shown[0]
    assert console.seen_by("张伟", sent) == [REFUSED]  # another grid's member
    assert console.seen_by("陈志远", sent) == [REFUSED]  # taken by another volunteer: no longer his to read
