"""Photos on the workbench's request page: a resident's Telegram photo fetched through the running channel
(getFile and the file's download path of the fake Bot API), shown to staff who may see the request, refused to
others, kept in a bounded cache, and a polite placeholder when Telegram cannot give it; once in a real browser."""
from __future__ import annotations

import asyncio
import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from bot.web.photos import PictureCache, media_type
from bot.web.server import create_web_app
from tests.browser_setup import CHROMIUM
from tests.fake_telegram import PHOTO, FakeBotApi
from tests.test_telegram import AUNT, GROUP, LI, ZHAO, Bot, private, telegram_settings
from tests.test_web_browser import DESK, PHONE, SHOTS
from tests.web import LINK

ZHANG = {"id": 1002, "is_bot": False, "first_name": "张伟"}  # the middle grid's member: building 3 is not hers
PICTURE = re.compile(r'<img src="(/requests/\d+/photos/\d+/\d+)"')


def _contacts(data: dict) -> None:
    """The secretary and the middle grid's member on Telegram too."""
    for member in data["members"]:
        if member["id"] == "zhao_hongmei":
            member["contacts"] = {"telegram": str(ZHAO["id"])}
        if member["id"] == "zhang_wei":
            member["contacts"] = {"telegram": str(ZHANG["id"])}


@pytest.fixture
async def bot(tmp_path, clock):
    api = FakeBotApi()
    await api.start()
    running = Bot(api, telegram_settings(tmp_path, _contacts), clock)
    await running.start()
    yield running
    await running.channel.stop()
    await api.stop()
    running.app.db.dispose()


async def reported(bot: Bot, text: str, photo: str, photo_data: bytes = PHOTO) -> None:
    """王阿姨 reports in the 3号楼 group with a photo (east grid)."""
    await bot.api.say(AUNT, GROUP, text, photo=photo, photo_data=photo_data)
    await bot.step(bot.handled + 1)


async def link_for(bot: Bot, user: dict) -> str:
    """The path of the sign-in link the bot sends this person on Telegram when she writes 网页."""
    await bot.api.say(user, private(user), "网页")
    await bot.step(bot.handled + 1)
    return urlsplit(LINK.search(bot.api.last_in(private(user), "/signin/").text).group(0)).path


async def signed_in(bot: Bot, web_app, user: dict) -> httpx.AsyncClient:
    """A browser-like client of the web app, in the bot's own event loop as `doorstep run` serves it."""
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url="http://127.0.0.1:8080")
    link = await link_for(bot, user)
    assert (await web.get(link)).status_code == 200  # the page with the button that signs in
    answer = await web.post(link)
    assert answer.status_code == 303 and answer.headers["location"] == "/requests"
    return web


async def test_the_secretary_sees_the_residents_photo_and_a_reload_does_not_download_it_again(bot):
    await reported(bot, "#报修 2单元电梯坏了，门关不上", "PHOTO-LIFT")
    web = await signed_in(bot, create_web_app(bot.app), ZHAO)
    page = (await web.get("/requests/1")).text
    [address] = PICTURE.findall(page)
    assert f'<a class="photo" href="{address}" target="_blank"' in page, "a click opens it full size"
    assert "PHOTO-LIFT" not in page and "telegram" not in address, "no file id in the page or its URLs"

    picture = await web.get(address)
    assert picture.status_code == 200 and picture.content == PHOTO
    assert picture.headers["content-type"] == "image/jpeg"
    assert picture.headers["cache-control"].startswith("private")
    assert bot.api.calls_of("getFile") == [{"file_id": "PHOTO-LIFT"}] and len(bot.api.downloads) == 1

    assert (await web.get(address)).content == PHOTO
    assert len(bot.api.calls_of("getFile")) == 1 and len(bot.api.downloads) == 1, "the reload came from the cache"


async def test_a_grid_member_of_another_grid_and_a_signed_out_browser_cannot_fetch_the_photo(bot):
    await reported(bot, "#报修 2单元电梯坏了", "PHOTO-LIFT")
    web_app = create_web_app(bot.app)
    own = await signed_in(bot, web_app, LI)  # the east grid's member: building 3 is hers
    [address] = PICTURE.findall((await own.get("/requests/1")).text)
    assert (await own.get(address)).content == PHOTO

    other = await signed_in(bot, web_app, ZHANG)
    refused = await other.get(address)
    assert refused.status_code == 403 and "没有权限" in refused.text and PHOTO not in refused.content
    nobody = httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url="http://127.0.0.1:8080")
    assert (await nobody.get(address)).headers["location"] == "/signed-out"
    assert (await own.get(address.rsplit("/", 1)[0] + "/5")).status_code == 404, "no such photo of that event"


async def test_a_photo_telegram_cannot_give_shows_a_polite_placeholder_and_is_asked_for_again(bot, caplog):
    await reported(bot, "#报修 2单元电梯坏了", "PHOTO-GONE")
    web = await signed_in(bot, create_web_app(bot.app), ZHAO)
    [address] = PICTURE.findall((await web.get("/requests/1")).text)
    bot.api.files.pop("PHOTO-GONE")  # Telegram no longer gives the file: getFile answers 400
    shown = await web.get(address)
    assert shown.headers["content-type"] == "image/svg+xml" and "照片暂时无法显示" in shown.text
    assert shown.status_code == 503 and shown.headers["cache-control"] == "no-store"
    assert "PHOTO-GONE" not in caplog.text, "no file id in the log"

    bot.api.files["PHOTO-GONE"] = PHOTO  # back again: not remembered as missing
    assert (await web.get(address)).content == PHOTO

    await reported(bot, "#报修 5单元楼道灯坏了", "PHOTO-LAMP")
    [lamp] = PICTURE.findall((await web.get("/requests/2")).text)
    await bot.channel.stop()  # Telegram not running in this process
    shown = await web.get(lamp)
    assert shown.status_code == 503 and "照片暂时无法显示" in shown.text


def test_the_cache_keeps_at_most_its_room_dropping_the_least_lately_shown():
    cache = PictureCache(100)
    for name in "abc":
        cache.keep(name, bytes(25), "image/jpeg")
    assert cache.get("a") is not None  # a is now the latest shown
    cache.keep("d", bytes(25), "image/jpeg")
    cache.keep("e", bytes(25), "image/jpeg")
    assert cache.size <= 100 and cache.get("b") is None and cache.get("a") is not None
    cache.keep("big", bytes(26), "image/jpeg")
    assert cache.get("big") is None, "a picture over a quarter of the room is not kept"
    assert PictureCache(0).get("a") is None


def test_only_image_bytes_are_served_as_images():
    assert media_type(PHOTO) == "image/jpeg"
    assert media_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert media_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert media_type(b"<html><script>alert(1)</script>") is None


@pytest.fixture
async def browser():
    """Debian's chromium under Playwright's async API (the bot, the server and the page share one event loop)."""
    async_api = pytest.importorskip("playwright.async_api")
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `python -m tests.browser_setup` installs it (as root, with apt-get)")
    async with async_api.async_playwright() as playwright:
        try:
            launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        except async_api.Error as error:
            pytest.skip(f"chromium does not start: {str(error).splitlines()[0]}")
        yield launched
        await launched.close()


@pytest.fixture
async def served(bot):
    """The bot's web app served on a free local port in the bot's event loop, as `doorstep run` does."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_web_app(bot.app), log_config=None, access_log=False,
                                           lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
        assert not task.done(), "the web server ended"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await task


async def test_in_a_browser_the_request_page_shows_the_photo_and_a_placeholder_for_one_that_is_gone(
        bot, served, browser):
    await reported(bot, "#报修 2单元电梯坏了，门关不上", "PHOTO-LIFT")
    await bot.api.say(AUNT, GROUP, photo="PHOTO-GONE")  # a second photo, kept with her report
    await bot.step(bot.handled + 1)
    bot.api.files.pop("PHOTO-GONE")
    page = await browser.new_page(viewport=PHONE)
    await page.goto(served + await link_for(bot, ZHAO))
    async with page.expect_navigation():
        await page.click("button[name=signin]")
    await page.goto(served + "/requests/1")
    pictures = page.locator(".photos img")
    assert await pictures.count() == 2
    await page.wait_for_function("[...document.querySelectorAll('.photos img')].every(i => i.complete)")
    sizes = await pictures.evaluate_all("all => all.map(i => [i.naturalWidth, i.width, i.alt])")
    assert sizes[0][0] == 480 and sizes[0][1] <= 120, "the photo itself, as a thumbnail for a phone"
    assert sizes[1][0] == 120, "the placeholder is drawn, not a broken image"
    assert sizes[0][2].startswith("照片")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "request-photos-phone.png"), full_page=True)
    width = await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page overflows a phone's width: {width}"
    await page.set_viewport_size(DESK)
    await page.screenshot(path=str(SHOTS / "request-photos-desk.png"), full_page=True)

    async with page.context.expect_page() as opened:
        await pictures.first.click()
    full = await opened.value
    await full.wait_for_load_state()
    assert await full.evaluate("document.images[0].naturalWidth") == 480, "a click opens the photo full size"
