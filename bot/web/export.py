"""The filtered list as CSV (UTF-8 with a BOM, so Excel reads the Chinese) or .xlsx (openpyxl in write-only mode)
with a monthly summary sheet. Both stream: requests are read a batch at a time, each batch in its own short
transaction, and written out as they come. No resident's name, flat or words: an export travels as a file."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request as HttpRequest
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from bot.app import App
from bot.web.access import Viewer, bot, reading, viewer
from bot.web.figures import rates
from bot.web.pages import chosen_filter
from handlers.deadlines import local_day_start
from handlers.digest import overdue_since
from handlers.views import overdue
from storage.requests import OPEN_STATES
from storage.workbench import RequestFilter

BATCH = 2000
MONTHS = 12
COLUMNS = ("number", "kind", "category", "urgent", "building", "unit", "grid", "state", "assignee", "level", "filed",
           "claimed", "done", "closed", "respond_by", "resolve_by", "overdue_hours", "rating")
TIMES = ("created_at", "responded_at", "done_at", "closed_at", "respond_by", "resolve_by")
router = APIRouter()


def records(app: App, who: Viewer, f: RequestFilter) -> Iterator[list]:
    """One list of cells per request, newest first; times as naive community-local datetimes."""
    cat, lang, zone = app.services.catalog, who.lang, app.services.community.zone
    grid_names = {g.id: g.name for g in app.services.community.grids}
    before = None
    while True:
        with reading(app) as t:
            batch = t.uow.workbench.batch(f, t.now, before, BATCH)
            names = t.uow.workbench.names(r.assignee_id for r in batch)
            now = t.now
        for r in batch:
            times = [getattr(r, name).astimezone(zone).replace(tzinfo=None) if getattr(r, name) else None
                     for name in TIMES]
            late = r.state in OPEN_STATES and overdue(r, now)
            hours = round((now - overdue_since(r, now)).total_seconds() / 3600, 1) if late else None
            yield [r.id, cat.label(lang, "kind", r.kind), cat.label(lang, "category", r.category),
                   cat.text(lang, "web.urgent") if r.urgent else "", r.building or "", r.unit or "",
                   grid_names.get(r.grid, r.grid or ""), cat.label(lang, "state", r.state),
                   names.get(r.assignee_id, ""), r.level, *times, hours, r.rating]
        if len(batch) < BATCH:
            return
        before = batch[-1].id


def _header(app: App, who: Viewer) -> list[str]:
    return [app.services.catalog.text(who.lang, f"web.col.{c}") for c in COLUMNS]


def _filename(app: App, ext: str) -> dict[str, str]:
    day = app.clock.now().astimezone(app.services.community.zone).strftime("%Y%m%d")
    return {"Content-Disposition": f'attachment; filename="requests-{day}.{ext}"', "Cache-Control": "no-store"}


@router.get("/export.csv")
def export_csv(http: HttpRequest, who: Viewer = Depends(viewer)) -> StreamingResponse:
    """The filtered list as CSV, written row by row as it is read."""
    app, f = bot(http), chosen_filter(http, who)

    def lines() -> Iterator[bytes]:
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(_header(app, who))
        for n, record in enumerate(records(app, who, f), 1):
            out.writerow(["" if v is None else v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v
                          for v in record])
            if n % 500 == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    def with_bom() -> Iterator[bytes]:
        yield "\ufeff".encode("utf-8")
        yield from lines()

    return StreamingResponse(with_bom(), media_type="text/csv; charset=utf-8", headers=_filename(app, "csv"))


def monthly(app: App, who: Viewer) -> Iterator[list]:
    """The summary sheet: the three rates per grid for each of the last twelve months (community time)."""
    grids = [g for g in app.services.community.grids if who.grids is None or g.id in who.grids]
    with reading(app) as t:
        end = local_day_start(t.community, t.now)
        month = end.astimezone(t.community.zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        starts = [month]
        for _ in range(MONTHS - 1):
            starts.append((starts[-1] - timedelta(days=1)).replace(day=1))
        for start in reversed(starts):
            stop = (start + timedelta(days=32)).replace(day=1)
            for g in grids:
                r = rates(t, start, stop, (g.id,))
                yield [start.strftime("%Y-%m"), g.name, r.filed, r.done, r.response, r.resolution, r.satisfaction]


def _percent(sheet, value: float | None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = "0%"
    return cell


@router.get("/export.xlsx")
def export_xlsx(http: HttpRequest, who: Viewer = Depends(viewer)) -> StreamingResponse:
    """The filtered list and a monthly summary as an Excel workbook. openpyxl's write-only mode keeps one row in
    memory; the workbook is written to a temporary file and streamed from it."""
    app, f = bot(http), chosen_filter(http, who)
    cat, lang = app.services.catalog, who.lang
    book = Workbook(write_only=True)
    sheet = book.create_sheet(cat.text(lang, "web.requests_sheet"))
    sheet.append(_header(app, who))
    for record in records(app, who, f):
        sheet.append(record)
    summary = book.create_sheet(cat.text(lang, "web.summary_sheet"))
    summary.append([cat.text(lang, "web.month"), cat.text(lang, "web.col.grid"), cat.text(lang, "web.col.filed_n"),
                    cat.text(lang, "web.col.done"), cat.text(lang, "web.col.response"),
                    cat.text(lang, "web.col.resolution"), cat.text(lang, "web.col.satisfaction")])
    for row in monthly(app, who):
        summary.append(row[:4] + [_percent(summary, value) for value in row[4:]])
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    book.save(path)

    def chunks() -> Iterator[bytes]:
        try:
            with open(path, "rb") as saved:
                while chunk := saved.read(1 << 16):
                    yield chunk
        finally:
            os.unlink(path)

    return StreamingResponse(chunks(), headers=_filename(app, "xlsx"),
                             media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
