"""The web workbench, through its HTTP interface: sign-in by a link from the chat, who sees what, the actions
going through the chat's own handlers, exports, and the figures equal to the digest's."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from handlers import digest
from handlers.say import Say
from handlers.context import Turn
from storage.uow import UnitOfWork
from tests.test_digest import KNOWN_DAY
from tests.web import client, csrf, drained, link_for, signed_in

REPORTS = """
#投诉 3号楼电梯坏了
/as 陈阿姨
/in 5号楼业主群
#投诉 5号楼楼道灯不亮
/as 周叔
/in 8号楼业主群
#投诉 8号楼楼下垃圾没人清运
"""


def test_a_resident_or_volunteer_gets_no_link_and_staff_get_one_only_in_private(console):
    console.run(REPORTS)
    assert link_for(console, "王阿姨") is None
    assert console.seen_by("王阿姨")[-1] == "抱歉，网页工作台只对网格员、网格长和书记开放。"
    assert link_for(console, "陈志远") is None  # a volunteer
    sent = console.run("/as 李建国\n/in 3号楼业主群\n/web")
    assert not any("signin" in t for _, m in sent for t in [m.text]), "no link is ever posted in a group"
    assert link_for(console, "李建国") is not None


def test_a_link_signs_in_once_within_ten_minutes_and_the_cookie_is_guarded(console):
    link = link_for(console, "赵书记")
    preview = client(console).get(link)  # a messenger fetching the link for its preview spends nothing
    assert preview.status_code == 200 and "登录工作台" in preview.text and "set-cookie" not in preview.headers
    web = client(console)
    assert web.get(link).status_code == 200
    response = web.post(link)
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "Max-Age=28800" in cookie
    assert web.get("/requests").status_code == 200
    for again in (client(console).get(link), client(console).post(link)):
        assert again.status_code == 403 and "已用过" in again.text, "a link works once"
    late = link_for(console, "赵书记")
    console.run("/advance 11m")
    assert client(console).get(late).status_code == 403, "a link lapses after ten minutes"
    assert client(console).post(late).status_code == 403
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert client(console).get(forged).status_code == 403 and client(console).post(forged).status_code == 403


def test_signed_out_pages_say_how_to_get_a_link(console):
    web = client(console)
    response = web.get("/requests", follow_redirects=True)
    assert response.status_code == 401
    assert "发「网页」" in response.text
    assert web.get("/figures").headers["location"] == "/signed-out"
    assert web.get("/export.csv").headers["location"] == "/signed-out"


def test_links_are_limited_per_hour(console):
    links = [link_for(console, "王强") for _ in range(6)]
    assert all(links[:5]) and links[5] is None
    assert console.seen_by("王强")[-1] == "一小时内最多发 5 个登录链接，请稍后再试。"
    console.run("/advance 61m")
    assert link_for(console, "王强") is not None


def test_a_grid_member_sees_her_grid_only_and_is_refused_another_grids_request(console):
    console.run(REPORTS)  # #1 east (building 3), #2 middle (5), #3 west (8)
    web = signed_in(console, "李建国")  # east
    listing = web.get("/requests").text
    assert "#1" in listing and "#2" not in listing and "#3" not in listing
    assert web.get("/requests/1").status_code == 200
    refused = web.get("/requests/2")
    assert refused.status_code == 403 and "没有权限" in refused.text
    form = web.get("/requests/1").text
    response = web.post("/requests/2/act", data={"csrf": csrf(form), "form_id": "x", "action": "claim"})
    assert response.status_code == 403
    exported = web.get("/export.csv").content.decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(exported))][1:] == ["1"]
    secretary = signed_in(console, "赵书记")
    assert secretary.get("/requests/2").status_code == 200


def test_done_on_the_page_is_the_chat_command_and_the_resident_hears_it(console):
    console.run(REPORTS)
    web = signed_in(console, "李建国")
    form = web.get("/requests/1").text
    token = csrf(form)
    refused = web.post("/requests/1/act", data={"csrf": "wrong", "form_id": "a", "action": "claim"})
    assert refused.status_code == 400, "a form without this session's token changes nothing"
    web.post("/requests/1/act", data={"csrf": token, "form_id": "b", "action": "claim"})
    done = web.post("/requests/1/act", data={"csrf": token, "form_id": "c", "action": "done",
                                             "note": "已更换控制板"}, follow_redirects=True)
    assert "诉求#1 已办结" in done.text  # the bot's own answer to 办结, shown on the page
    assert 'name="action"' not in done.text, "a request done offers no more actions"
    assert 'name="action" value="claim"' in form, "while it waited, it could be claimed"
    web.post("/requests/1/act", data={"csrf": token, "form_id": "c", "action": "done", "note": "again"})
    heard = drained(console)
    told = console.seen_by("王阿姨", heard)
    assert any("已更换控制板" in t for t in told), told
    assert any("满意" in t for t in told), "she is asked to rate, as after a 办结 in chat"
    with UnitOfWork(console.app.db) as uow:
        actions = [e.action for e in uow.requests.timeline(1)]
    assert actions.count("done") == 1, "a form sent twice acts once"
    # The same permissions: a grid member may not escalate another grid's request from the page either.
    wrong = web.post("/requests/1/act", data={"csrf": token, "form_id": "d", "action": "merge", "target": "2"},
                     follow_redirects=True)
    assert "抱歉" in wrong.text


def test_exports_read_back(console):
    console.run(REPORTS + "/as 李建国\n/in 私聊\n接单 1\n办结 1 修好了\n/as 王阿姨\n/in 3号楼业主群\n满意")
    web = signed_in(console, "赵书记")
    raw = web.get("/export.csv")
    assert raw.content.startswith(b"\xef\xbb\xbf") and "attachment" in raw.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(raw.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "类型", "类别", "紧急"]
    first = dict(zip(rows[0], rows[-1]))
    assert first["编号"] == "1" and first["类别"] == "电梯" and first["状态"] == "已关闭" and first["评分"] == "5"
    assert first["登记时间"] == "2026-11-23 10:00" and first["负责人"] == "李建国"
    assert not any("王阿姨" in cell or "电梯坏了" in cell for row in rows for cell in row), "no resident's data"
    book = load_workbook(io.BytesIO(web.get("/export.xlsx").content), read_only=True)
    sheet, summary = book.worksheets
    values = list(sheet.values)
    assert values[0] == tuple(rows[0]) and [v[0] for v in values[1:]] == [3, 2, 1]
    months = list(summary.values)
    assert months[0][:3] == ("月份", "网格", "登记数")
    november = [m for m in months if m[0] == "2026-11" and m[1] == "东区网格"]
    assert november == [("2026-11", "东区网格", 1, 1, 1.0, 1.0, 1.0)]


def test_the_list_filters_and_counts_states(console):
    console.run(REPORTS + "/as 李建国\n/in 私聊\n接单 1")
    web = signed_in(console, "赵书记")
    page = web.get("/requests").text
    assert re.search(r"处理中 <b>1</b>", page) and re.search(r"待接单 <b>2</b>", page)
    web.post("/requests/filter", data={"csrf": csrf(page), "category": "sanitation"})
    page = web.get("/requests").text
    assert "#3" in page and "#1" not in page and "共 1 件" in page
    web.post("/requests/filter", data={"csrf": csrf(page), "text": "楼道灯"})
    page = web.get("/requests").text
    assert "#2" in page and "#3" not in page
    assert "楼道灯" not in "".join(re.findall(r'(?:href|action)="([^"]*)"', page)), "search words stay out of URLs"
    web.post("/requests/filter", data={"csrf": csrf(page), "overdue": "1"})
    console.run("/advance 3h")  # #2 (2 h to claim) and #3 (4 h) are past respond-by?  #2 only
    page = web.get("/requests").text
    assert "#2" in page and "#1" not in page and "#3" not in page and "超时 1 小时" in page
    console.run("/advance 3d")
    assert "超时 3 天" in web.get("/requests").text, "as the digest says it"


def test_the_figures_equal_the_digest(console):
    console.run(KNOWN_DAY + "/advance 19h")  # the digest's own test day, and the morning after
    with UnitOfWork(console.app.db) as uow:
        now = console.clock.now()
        turn = Turn(console.app.services, uow, Say(uow, console.app.services.catalog,
                                                    console.app.services.community, now), now)
        fig = digest.compute(turn)
    page = signed_in(console, "赵书记").get("/figures").text
    shown = lambda key: re.search(rf'id="{key}">([^<]*)<', page).group(1)  # noqa: E731
    pct = lambda v: "—" if v is None else f"{v:.0%}"  # noqa: E731
    assert (shown("response"), shown("resolution"), shown("satisfaction")) == (
        pct(fig.response_rate), pct(fig.resolution_rate), pct(fig.satisfaction_rate)) == ("67%", "33%", "100%")
    assert shown("overdue-now") == str(fig.overdue)
    table = re.search(r'id="per-grid">(.*?)</table>', page, re.S).group(1)
    cells = [re.findall(r"<td>([^<]*)</td>", row) for row in table.split("<tr>")[2:]]
    grid_names = {g.id: g.name for g in console.settings.community.grids}
    for key, row in fig.per_grid.items():
        expected = [grid_names[key], *(str(row[k]) for k in ("filed", "done", "open", "overdue"))]
        assert expected in [c[:5] for c in cells]
    tops = re.findall(r"<li>(\S+) (\d+)</li>", re.search(r'id="top-categories">(.*?)</ol>', page, re.S).group(1))
    label = console.app.services.catalog.label
    assert sorted(tops) == sorted((label("zh-CN", "category", c), str(n)) for c, n in fig.top_categories)
