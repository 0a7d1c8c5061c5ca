"""Who may see and do what: details, each role's work list, binding accounts and chats."""
from __future__ import annotations

import yaml

from bot.settings import Settings
from storage.uow import UnitOfWork
from tests.conftest import ROOT, Console


def refused(texts: list[str]) -> bool:
    """One reply, and it is the refusal of someone it is not for."""
    return len(texts) == 1 and texts[0].startswith("抱歉，") and ("可以这样操作" in texts[0] or "能看" in texts[0])


def test_the_grid_member_sees_and_acts_on_a_wish_in_his_grid_a_volunteer_claimed(console):
    console.run("#微心愿 我是3号楼独居老人，想请人帮忙换一下厨房的灯泡")
    sent = console.run("/as 陈志远\n/in 私聊\n详情 1")  # offered to him: he may look before he claims
    assert "微心愿#1 生活帮扶·3号楼" in console.seen_by("陈志远", sent)[0]  # the details, not a refusal
    console.run("/as 孙丽\n接单 1")
    sent = console.run("/as 李建国\n详情 1\n/as 张伟\n详情 1\n/as 陈志远\n详情 1")
    shown = console.seen_by("李建国", sent)
    assert len(shown) == 1 and "微心愿#1 生活帮扶·3号楼" in shown[0] and "孙丽" in shown[0]
    assert refused(console.seen_by("张伟", sent))  # another grid's member
    assert refused(console.seen_by("陈志远", sent))  # taken by another volunteer: no longer his to read
    sent = console.run("/as 李建国\n上报 1 志愿者联系不上老人，需要社区出面")  # and he may act on it
    assert len(console.seen_by("李建国", sent)) == 1 and "已上报给网格长王强" in console.seen_by("李建国", sent)[0]
    assert any("已上报到您" in text for text in console.seen_by("王强", sent))


def test_the_property_desk_a_category_informs_may_read_its_details(console):
    sent = console.run("#投诉 3号楼门口垃圾三天没清运了\n/as 物业客服\n/in 私聊\n详情 1")
    told = console.seen_by("物业客服", sent)
    assert told[0].startswith("知会：诉求#1（环境卫生·3号楼）") and "环境卫生·3号楼" in told[1] and "记录：" in told[1]


def test_the_leader_and_the_secretary_each_have_a_list_of_what_waits_for_them(console):
    console.run("#投诉 3号楼电梯坏了\n/in 幸福里大群\n#投诉 水管漏水了")  # #2 has no place yet
    console.run("/advance 61m")  # #1 unclaimed past its respond-by: escalated to the leader
    sent = console.run("/as 王强\n/in 私聊\n我的")
    [leader] = console.seen_by("王强", sent)
    assert leader.startswith("待我处理：2 件（含上报到我这一级的和位置待确认的）\n⚠️ #1 电梯·3号楼")
    assert "\n#2 " in leader
    sent = console.run("/as 赵书记\n我的")
    [secretary] = console.seen_by("赵书记", sent)
    # Nothing has reached her rung yet, but #1 is overdue in the community: hers to see.
    assert secretary.startswith("待我处理：1 件（含上报到我这一级的和全社区超时的）\n⚠️ #1 电梯·3号楼")
    console.run("/advance 1d")  # escalated again, to her
    with UnitOfWork(console.app.db) as uow:
        assert uow.requests.get(1).level == 2
    sent = console.run("/as 赵书记\n我的")
    assert console.seen_by("赵书记", sent)[0].count("\n⚠️ #") == 2  # #2 is overdue by now too


def test_a_long_work_list_shows_ten_overdue_first_then_newest_and_pages_on(console):
    places = ["1号楼", "2号楼", "3号楼"]
    problems = ["电梯坏了", "水管漏水", "楼道灯不亮", "暖气不热"]
    console.run("\n".join(f"#投诉 {p}{q}" for p in places for q in problems))
    with UnitOfWork(console.app.db) as uow:
        assert uow.requests.get(12) is not None and uow.requests.get(13) is None
    console.run("/as 李建国\n/in 私聊\n" + "\n".join(f"接单 {n}" for n in range(2, 13)))
    console.run("/advance 70m")  # #1, never claimed, is past its respond-by
    sent = console.run("我的")
    [page_one] = console.seen_by("李建国", sent)
    lines = page_one.split("\n")
    assert lines[0] == "待我处理：12 件"
    assert lines[1].startswith("⚠️ #1 ") and [x.split()[0] for x in lines[2:11]] == [f"#{n}" for n in range(12, 3, -1)]
    assert lines[-1] == "更多：我的 2"
    sent = console.run("我的 2")
    page_two = console.seen_by("李建国", sent)[0].split("\n")
    assert page_two[0] == "待我处理：12 件" and [x.split()[0] for x in page_two[1:]] == ["#3", "#2"]


def console_with(tmp_path, clock, edit) -> Console:
    """A console bot on the shipped config as `edit` changes it."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text("utf-8"))
    edit(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    settings = Settings.load(path, env={}).model_copy(update={"database_url": f"sqlite:///{tmp_path / 'b.db'}"})
    return Console(settings, clock)


def test_the_secretary_binds_a_group_the_way_the_readme_says_and_a_resident_is_refused(console):
    sent = console.run("/as 赵书记\n/in 新5号楼群\n绑定群 5号楼\n/in 新8号楼群\n绑定群 8\n/in 新3号楼群\n绑定群")
    assert console.in_chat("新5号楼群", sent) == ["本群已绑定到 5号楼，群里反映的问题会自动记到这里的楼栋。"]
    assert console.in_chat("新8号楼群", sent) == ["本群已绑定到 8号楼，群里反映的问题会自动记到这里的楼栋。"]
    assert console.in_chat("新3号楼群", sent)[0].startswith("请写上楼号，例如「/bindchat 3号楼」")
    sent = console.run("/as 王阿姨\n/in 新3号楼群\n绑定群 3号楼\n绑定群里的人都在吗")
    assert console.in_chat("新3号楼群", sent) == [
        "抱歉，只有社区书记或网格长可以绑定楼栋群（工作人员请先在和我的私聊里发「/bind 绑定码」）。"]
    sent = console.run("/as 李大爷\n/in 新5号楼群\n#投诉 电梯坏了")
    assert console.in_chat("新5号楼群", sent)[0].startswith("收到，已登记为 诉求#1（电梯·5号楼）")


def test_a_binding_code_posted_in_a_group_is_voided_and_its_owner_told_privately(tmp_path, clock):
    def codes(data):
        for member in data["members"]:
            if member["id"] == "li_jianguo":
                member["bind_code"] = "LI-7731"
            if member["id"] == "zhang_wei":  # not bound to any account yet: only a code
                member["bind_code"], member["contacts"] = "8642", {}
    console = console_with(tmp_path, clock, codes)
    sent = console.run("绑定 LI-7731\n绑定手机号怎么弄")
    assert console.in_chat("3号楼业主群", sent) == [
        "绑定码不能发在群里，这个码已作废。请私下向社区书记要一个新码，在和我的私聊里发「/bind 新码」。"]
    assert console.seen_by("李建国", sent)[-1].startswith("您的绑定码刚才被发在了群「3号楼业主群」里，已作废")
    assert "config.yaml" in console.seen_by("李建国", sent)[-1] and not console.seen_by("赵书记", sent)
    sent = console.run("/as 李建国\n/in 私聊\n/bind LI-7731")
    assert console.seen_by("李建国", sent) == ["这个绑定码已经用过了，请向社区书记要一个新的。"]

    sent = console.run("/as 王阿姨\n/in 3号楼业主群\n/bind 8642")  # a numeric code, and its owner has no chat yet
    assert console.in_chat("3号楼业主群", sent)[0].startswith("绑定码不能发在群里")
    [told] = console.seen_by("赵书记", sent)
    assert told.startswith("张伟 的绑定码刚才被发在了群「3号楼业主群」里，已作废。") and "zhang_wei" in told
    sent = console.run("/as 张伟\n/in 私聊\n绑定 8642")
    assert console.seen_by("张伟", sent) == ["这个绑定码已经用过了，请向社区书记要一个新的。"]
    console.app.db.dispose()


def test_a_binding_code_mentioned_in_passing_in_a_group_is_voided_too(tmp_path, clock):
    def codes(data):
        for member in data["members"]:
            if member["id"] == "li_jianguo":
                member["bind_code"] = "1234"
    console = console_with(tmp_path, clock, codes)
    sent = console.run("/as 李建国\n我的码是 1234，怎么用？\n/as 王阿姨\n我电话13812341234")
    assert console.in_chat("3号楼业主群", sent) == [
        "绑定码不能发在群里，这个码已作废。请私下向社区书记要一个新码，在和我的私聊里发「/bind 新码」。"]
    sent = console.run("/as 李建国\n/in 私聊\n绑定 1234")
    assert console.seen_by("李建国", sent)[-1] == "这个绑定码已经用过了，请向社区书记要一个新的。"
    console.app.db.dispose()


def test_a_volunteer_who_takes_a_wish_is_told_how_to_agree_a_visit_and_the_resident_how_to_answer(console):
    console.run("#微心愿 家里灯泡坏了，腿脚不方便，想请人帮忙换一下")
    sent = console.run("/as 陈志远\n/in 私聊\n接单 1")
    assert console.seen_by("陈志远", sent)[0].endswith(
        "\n上门前请先和心愿人约好：发「进展 1 您想说的话」给 TA 留言，TA 的回复会转给您。")
    assert console.seen_by("王阿姨", sent) == [
        "您的 微心愿#1 已由志愿者陈志远认领。TA 会通过我给您留言约时间；您也可以回复「补充 1 门牌号和方便的时间」告诉 TA。"]
    sent = console.run("她住几楼啊 怎么联系")  # not a resident's hint about how to file a complaint
    assert console.seen_by("陈志远", sent) == [
        "我没有看懂这条消息。给居民留言请发「进展 编号 内容」（TA 的回复会转给您），查看您的事项发「我的」，命令列表发「帮助」。"]
    sent = console.run("进展 1 阿姨您好，请问您家门牌号？下午三点方便吗\n/as 王阿姨\n补充 1 502室 下午在家")
    assert console.seen_by("陈志远", sent)[-1] == "微心愿#1 居民补充：502室 下午在家"
