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
    assert problems_with(tmp_path, change) == ["chats[0].buildings: building 42 of chat '3号楼业主群' is in no grid"]


def test_member_without_contact(tmp_path):
    def change(d):
        d["members"][1]["contacts"] = {}
    assert problems_with(tmp_path, change) == [
        "members[1].contacts: 'zhang_wei' has no contact on any channel (console, telegram or wechat)"]


def test_deadline_that_is_not_a_duration(tmp_path):
    def change(d):
        d["categories"]["elevator"]["respond"] = "two hours"
    [problem] = problems_with(tmp_path, change)
    assert problem.startswith("categories.elevator.respond: not a duration: 'two hours'")


def test_a_misspelt_database_key_is_named(tmp_path):
    def change(d):
        d["database"] = {"pth": "other.db"}
    assert problems_with(tmp_path, change) == ["database.pth: unknown key (known: path, spool)"]


def test_duplicate_ids_and_dangling_references(tmp_path):
    def change(d):
        d["members"][2]["id"] = "li_jianguo"
        d["grids"][2]["member"] = "nobody"
        d["escalation"] = ["ghost"]
    problems = problems_with(tmp_path, change)
    assert "members: the id 'li_jianguo' is used more than once" in problems
    assert "grids[2].member: no member has the id 'nobody'" in problems
    assert "escalation: no member has the id 'ghost'" in problems


def test_check_config_command_names_the_key(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text((ROOT / "config.yaml").read_text("utf-8").replace("timezone: Asia/Shanghai", "timezone: Mars/Base"),
                    "utf-8")
    result = CliRunner().invoke(cli, ["check-config", "--config", str(path)])
    assert result.exit_code == 2
    assert "community.timezone: unknown time zone 'Mars/Base'" in result.output
    ok = CliRunner().invoke(cli, ["check-config", "--config", str(ROOT / "config.yaml")])
    assert ok.exit_code == 0 and "3 grids, 9 buildings" in ok.output
