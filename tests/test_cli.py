"""The console and the command line as an operator meets them: restarts, mistakes, one-line errors."""
from __future__ import annotations

from storage.uow import UnitOfWork


def test_a_report_typed_after_restarting_the_console_is_filed_and_answered(console):
    console.run("#投诉 3号楼电梯坏了")
    console.restart()
    sent = console.run("#投诉 3号楼2单元楼道灯不亮")
    assert console.in_chat("3号楼业主群", sent)[0].startswith("收到，已登记为 诉求#2")
    with UnitOfWork(console.app.db) as uow:
        assert uow.requests.get(2) is not None


def test_a_reply_after_a_restart_answers_this_runs_message_not_an_earlier_one(console):
    console.run("3号楼的楼道灯坏了\n2")  # an offer (m1), declined
    console.restart()
    console.run("5号楼下水道堵了")  # a new offer: its id must not be the earlier run's m1
    offer = console.message_id("需要登记为诉求吗")
    sent = console.run(f"/reply {offer} 1")
    assert console.in_chat("3号楼业主群", sent)[0].startswith("收到，已登记为 诉求#1（水管·5号楼）")
