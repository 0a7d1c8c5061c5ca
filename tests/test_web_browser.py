"""The web workbench in a real browser (Playwright driving Debian's chromium): sign in through a link the bot sent
in chat, filter, open a request, 办结 it and see the resident told in the console, export, and look at every page
at phone and desk width (screenshots under test-output/web/), with nothing wider than a phone's screen."""
from __future__ import annotations

import csv
import io
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import uvicorn
from openpyxl import load_workbook

from bot.web.server import create_web_app
from tests.browser_setup import CHROMIUM
from tests.conftest import ROOT, Console
from tests.web import drained, link_for

SHOTS = ROOT / "test-output" / "web"
PHONE, DESK = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
REPORTS = """
#投诉 3号楼2单元电梯又坏了，已经两天了没人修
/as 李大爷
#投诉 3号楼电梯还是坏的
/as 陈阿姨
/in 5号楼业主群
#投诉 5号楼楼道灯不亮
/as 周叔
/in 8号楼业主群
#投诉 8号楼楼下垃圾没人清运
/as 刘芳
/in 私聊
接单 3
办结 3 已清运
/as 周叔
/in 8号楼业主群
满意
"""


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium under Playwright, or a skip that says why there is none."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `python -m tests.browser_setup` installs it (as root, with apt-get)")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        except sync_api.Error as error:
            pytest.skip(f"chromium does not start: {str(error).splitlines()[0]}")
        yield launched
        launched.close()


@pytest.fixture
def live(settings, clock):
    """The console bot with its web app served on a free local port, in a thread of its own."""
    sock = socket.create_server(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    web = settings.web.model_copy(update={"public_url": base})
    console = Console(settings.model_copy(update={"web": web}), clock)
    server = uvicorn.Server(uvicorn.Config(create_web_app(console.app), log_config=None, access_log=False,
                                           lifespan="off"))
    started = threading.Event()
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    while not server.started:  # waits on the server's own flag; the thread fails loudly if it cannot start
        started.wait(0.01)
        assert thread.is_alive(), "the web server thread ended"
    yield console, base
    server.should_exit = True
    thread.join(10)
    console.app.db.dispose()


def aside(work, *args):
    """Run chat work (which runs its own event loop) in a thread: Playwright's sync API holds this one's."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work, *args).result()


def look(page, name: str) -> None:
    """Screenshots at phone and desk width; on the phone nothing may be wider than the screen."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    width = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name} overflows a phone's width: {width}"
    page.set_viewport_size(DESK)
    page.screenshot(path=str(SHOTS / f"{name}-desk.png"), full_page=True)


def test_the_secretary_signs_in_from_the_chat_filters_finishes_a_request_and_exports(live, browser, tmp_path):
    console, base = live
    aside(console.run, REPORTS)
    page = browser.new_page()
    page.goto(base + "/requests")
    assert "发「网页」" in page.inner_text("main"), "signed out, the page says how to get a link"
    look(page, "signed-out")

    page.goto(aside(link_for, console, "赵书记"))
    with page.expect_navigation():
        page.click("button[name=signin]")
    assert page.url == base + "/requests"
    assert page.locator(".requests li").count() == 3  # 李大爷's report of the same lift follows #1
    look(page, "list")

    page.select_option("select[name=category]", "sanitation")
    with page.expect_navigation():
        page.click("button[name=apply]")
    rows = page.locator(".requests li")
    assert rows.count() == 1 and rows.first.inner_text().startswith("#3")
    with page.expect_navigation():
        page.click("button[name=clear]")
    assert page.locator(".requests li").count() == 3

    with page.expect_navigation():
        page.click("text=#1")
    assert page.url == base + "/requests/1"
    assert "3号楼2单元电梯又坏了" in page.inner_text(".text") and "李大爷" in page.inner_text("dl")
    look(page, "request")
    page.fill(".act-done input[name=note]", "已更换控制板，恢复运行")
    with page.expect_navigation():
        page.click(".act-done button")
    assert "诉求#1 已办结" in page.inner_text(".answers")
    told = console.seen_by("王阿姨", aside(drained, console))
    assert any("已更换控制板，恢复运行" in text for text in told), told

    page.goto(base + "/requests")
    with page.expect_download() as got:
        page.click("text=导出 CSV")
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_bytes().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["3", "2", "1"] and rows[-1][7] == "已办结待评价"
    with page.expect_download() as got:
        page.click("text=导出 Excel")
    assert got.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()), read_only=True)
    assert [row[0] for row in book.worksheets[0].values][1:] == [3, 2, 1]
    assert book.sheetnames == ["诉求", "月度汇总"]

    aside(console.run, "/advance 1d")  # the figures cover the 30 days ending yesterday, as the digest does
    page.goto(base + "/figures")
    assert page.inner_text("#satisfaction") == "100%" and page.inner_text("#filed") == "3"
    assert page.locator(".chart svg").count() == 4
    look(page, "figures")


def test_a_grid_member_is_refused_another_grids_request_and_a_resident_gets_no_link(live, browser):
    console, base = live
    aside(console.run, REPORTS)
    assert aside(link_for, console, "王阿姨") is None
    page = browser.new_page()
    page.goto(aside(link_for, console, "张伟"))
    with page.expect_navigation():
        page.click("button[name=signin]")  # the middle grid: building 5, request #2
    assert page.locator(".requests li").count() == 1
    response = page.goto(base + "/requests/1")
    assert response.status == 403 and "没有权限" in page.inner_text("main")
    look(page, "refused")
