"""The console and the command line as an operator meets them: restarts, mistakes, one-line errors."""
from __future__ import annotations

import sys

import pytest

from bot.cli import main
from storage.uow import UnitOfWork
from tests.conftest import ROOT
from tests.npm import free_port


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


def doorstep(monkeypatch, capsys, *args: str) -> tuple[int, list[str]]:
    """Run the command line as a shell would; its exit code and the lines it wrote to stderr."""
    monkeypatch.setattr(sys, "argv", ["doorstep", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("args,error", [
    (["run", "--script", "nope.txt"], "--script nope.txt：找不到文件"),
    (["run", "--bogus"], "doorstep run: No such option: --bogus (Possible options: --verbose)"),
    (["digest", "--at", "tomorrow"], "--at：不是日期时间：'tomorrow'（请写如 2026-11-23T08:00）"),
    (["check-config", "--config", "missing.yaml"], "missing.yaml：找不到文件"),
    (["frobnicate"], "doorstep: No such command 'frobnicate'."),
])
def test_a_command_line_mistake_is_one_line_and_a_non_zero_exit(monkeypatch, capsys, tmp_path, args, error):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text("utf-8"), "utf-8")
    code, lines = doorstep(monkeypatch, capsys, *args)
    assert code == 2 and lines == [error]


def test_an_unreadable_config_a_console_less_script_and_a_silent_database_are_one_line(monkeypatch, capsys, tmp_path):
    code, lines = doorstep(monkeypatch, capsys, "check-config", "--config", str(tmp_path))
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"{tmp_path}：无法读取（")
    config = tmp_path / "config.yaml"
    shipped = (ROOT / "config.yaml").read_text("utf-8")
    config.write_text(shipped.replace("console: {enabled: true", "console: {enabled: false"), "utf-8")
    script = tmp_path / "script.txt"
    script.write_text("#投诉 3号楼电梯坏了\n", "utf-8")
    code, lines = doorstep(monkeypatch, capsys, "run", "--config", str(config), "--script", str(script))
    assert code == 2 and lines == ["--script 要用 console 渠道：请在 config.yaml 里打开 channels.console.enabled"]
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://doorstep:secret@127.0.0.1:{free_port()}/none")
    code, lines = doorstep(monkeypatch, capsys, "digest", "--config", str(config))
    assert code == 1 and len(lines) == 1 and lines[0].startswith("数据库 postgresql+psycopg://doorstep:***@127.0.0.1:")
    assert "连不上" in lines[0] and "secret" not in lines[0]
    monkeypatch.setenv("DATABASE_URL", "not a url")
    code, lines = doorstep(monkeypatch, capsys, "digest", "--config", str(config))
    assert code == 1 and lines == ["数据库 DATABASE_URL 用不了：Could not parse SQLAlchemy URL from given URL string"
                                   "（请检查 DATABASE_URL 或 config.yaml 的 database.path）"]
