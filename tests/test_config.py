"""config.yaml: the shipped file is valid, and every kind of mistake is named by its key."""
from __future__ import annotations

import yaml
from typer.testing import CliRunner

from bot.cli import cli
from bot.settings import ConfigError, Settings
from tests.conftest import ROOT


def problems_with(tmp_path, change) -> list[str]:
    data = yaml.safe_load((ROOT / "config.yaml").read_text("utf-8"))
    change(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    try:
        Settings.load(path, env={})
    except ConfigError as error:
        return error.problems
    return []


def test_shipped_config_is_valid():
    settings = Settings.load(ROOT / "config.yaml", env={})
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("doorstep.db")
    assert Settings.load(ROOT / "config.yaml", env={"DATABASE_URL": "postgresql+psycopg://x/y"}).database_url == \
        "postgresql+psycopg://x/y"


def test_unknown_building_in_chat(tmp_path):
    def change(d):
        d["chats"][0]["buildings"] = [42]
    assert problems_with(tmp_path, change) == ["群 'b3' 的 buildings：42号楼不在任何网格里"]


def test_member_without_contact(tmp_path):
    def change(d):
        d["members"][1]["contacts"] = {}
    assert problems_with(tmp_path, change) == [
        "成员 'zhang_wei' 的 contacts：没有任何渠道的联系方式（console、telegram 或 wechat），也没有 bind_code"]


def test_deadline_that_is_not_a_duration(tmp_path):
    def change(d):
        d["categories"]["elevator"]["respond"] = "two hours"
    [problem] = problems_with(tmp_path, change)
    assert problem == "类别 'elevator' 的 respond：不是时长：'two hours'（请写如 30m、2h、1d、1d12h）"


def test_a_misspelt_database_key_is_named(tmp_path):
    def change(d):
        d["database"] = {"pth": "other.db"}
    assert problems_with(tmp_path, change) == ["database.pth：未知的键（可用：path, spool）"]


def test_duplicate_ids_and_dangling_references(tmp_path):
    def change(d):
        d["members"][2]["id"] = "li_jianguo"
        d["grids"][2]["member"] = "nobody"
        d["escalation"] = ["ghost"]
    problems = problems_with(tmp_path, change)
    assert "成员 'li_jianguo'：id 'li_jianguo' 用了不止一次" in problems
    assert "网格 'west' 的 member：没有 id 为 'nobody' 的成员" in problems
    assert "escalation：没有 id 为 'ghost' 的成员" in problems


def test_check_config_command_names_the_key(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text("utf-8").replace("timezone: Asia/Shanghai", "timezone: Mars/Base"),
                    "utf-8")
    result = CliRunner().invoke(cli, ["check-config", "--config", str(path)])
    assert result.exit_code == 2
    assert result.output == f"{path}：community.timezone：未知时区 'Mars/Base'（请写如 Asia/Shanghai）\n"
    ok = CliRunner().invoke(cli, ["check-config", "--config", str(ROOT / "config.yaml")])
    assert ok.exit_code == 0 and "3 个网格，9 栋楼" in ok.output


def test_deadlines_that_contradict_each_other_are_named_by_category(tmp_path):
    def change(d):
        d["categories"]["elevator"].update(respond="2d", resolve="1d")  # the notice said 12-02 前接单，12-01 前办结
        d["categories"]["plumbing"].update(urgent_respond="3h", urgent_resolve="6h")  # slower than routine
    assert problems_with(tmp_path, change) == [
        "类别 'elevator' 的 respond：respond（2d）比 resolve（1d）还长：通知会写成办结时限早于接单时限",
        "类别 'plumbing' 的 urgent_respond：urgent_respond（3h）比 respond（2h）还长：紧急的反而比平常慢"]


def test_the_same_chat_contact_or_code_twice_is_named_by_id(tmp_path):
    def change(d):
        d["chats"][1]["console"] = "3号楼业主群"
        d["chats"][0]["telegram"], d["chats"][2]["telegram"] = "-1003", -1003
        d["members"][1]["contacts"] = {"console": "李建国"}
        d["members"][3]["bind_code"] = d["members"][4]["bind_code"] = "CODE-1"
        d["escalation"] = ["wang_qiang", "wang_qiang"]
        d["members"][5]["contacts"]["telegram"] = "@chenzhiyuan"
    assert problems_with(tmp_path, change) == [
        "成员 'zhang_wei' 的 contacts.console：'李建国' 已被 'li_jianguo' 使用",
        "成员 'chen_zhiyuan' 的 contacts.telegram：'@chenzhiyuan' 不是 Telegram 的数字 id（用户是正数，群是以 -100 开头的负数；@用户名 不行）",
        "成员 'zhao_hongmei' 的 bind_code：'CODE-1' 已被 'wang_qiang' 使用",
        "群 'b5' 的 console：'3号楼业主群' 已被 'b3' 使用",
        "群 'b8' 的 telegram：'-1003' 已被 'b3' 使用",
        "escalation：'wang_qiang' 出现了两次",
    ]


def test_swapped_quiet_hours_and_a_close_before_the_last_reask(tmp_path):
    def change(d):
        d["quiet_hours"] = {"start": "08:00", "end": "22:00"}
        d["schedule"]["close_unrated_after"] = "2d"
    assert problems_with(tmp_path, change) == [
        'quiet_hours：免打扰时段 08:00–22:00 长达 14 小时：start 和 end 是否写反了？（例如 start: "22:00"，end: "08:00"）',
        "schedule.close_unrated_after：2d 后就自动关闭，可 rating_reask 还要在 3d 后再请居民评价",
    ]


def test_the_console_starting_in_a_chat_that_is_not_configured_and_a_misspelt_channel(tmp_path):
    def change(d):
        d["channels"]["console"]["chat"] = "3号楼群"
    assert problems_with(tmp_path, change) == [
        "channels.console.chat：没有 console 名为 '3号楼群' 的群（可用：3号楼业主群、5号楼业主群、8号楼业主群、幸福里大群）"]

    def typo(d):
        d["channels"]["telgram"] = d["channels"].pop("telegram")
    assert problems_with(tmp_path, typo) == ["channels.telgram：未知的键（拼写有误？）"]


def test_an_english_community_is_told_in_english_naming_items_by_id(tmp_path):
    def change(d):
        d["community"]["language"] = "en"
        d["grids"][1]["member"] = "nobody"
        d["grids"][1]["buildings"] = [3, 4, 5, 6]
    assert problems_with(tmp_path, change) == [
        "grid 'middle', buildings: building 3 is already in grid 'east'",
        "grid 'middle', member: no member has the id 'nobody'",
    ]
    def typo(d):
        d["community"]["language"] = "en"
        d["grids"][1]["volunteer"] = ["sun_li"]
        d["members"][0]["role"] = "boss"
    assert problems_with(tmp_path, typo) == [
        "member 'li_jianguo', role: must be one of 'grid_member', 'leader', 'secretary', 'volunteer', 'property' or "
        "'street', not 'boss'",
        "grid 'middle', volunteer: unknown key (misspelt?)",
    ]


def test_a_choice_is_listed_in_the_community_language_without_english_words(tmp_path):
    def change(d):
        d["community"]["language"] = "zh"
    [problem] = problems_with(tmp_path, change)
    assert problem == "community.language：应为 'zh-CN'、'en' 之一，而不是 'zh'"
