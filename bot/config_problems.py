"""Config problems told to the person starting the bot: in the community's language, each item named by its id."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from handlers.catalog import Catalog
from handlers.community_checks import Problem
from handlers.durations import format_duration

LISTS = ("members", "grids", "chats")  # sections whose items have an id
# pydantic's error types that say the same to a person
SAME = {"int_parsing": "int_type", "float_parsing": "float_type", "bool_parsing": "bool_type",
        "time_parsing": "time_type", "model_type": "dict_type", "model_attributes_type": "dict_type"}


def from_pydantic(error: ValidationError, data: Any, prefix: tuple[str, ...] = ()) -> list[Problem]:
    """The problems a validation found, with list positions turned into the ids of the items."""
    found: list[Problem] = []
    for item in error.errors():
        if item["type"] == "inconsistent":
            found.extend(item["ctx"]["problems"])
            continue
        what = SAME.get(item["type"], item["type"])
        params = {"input": _shown(item.get("input")), "detail": item["msg"], **(item.get("ctx") or {})}
        found.append(Problem(*_where(prefix + tuple(item["loc"]), data), what, params))
    return found


def _where(loc: tuple, data: Any) -> tuple[str, str | int | None, str | None]:
    """(section, item, key) of a location such as ('grids', 1, 'member'): the item is its id, else its position."""
    if not loc:
        return "", None, None
    section, rest, item = str(loc[0]), loc[1:], None
    if section in LISTS and rest and isinstance(rest[0], int):
        entries = data.get(section) if isinstance(data, dict) else None
        entry = entries[rest[0]] if isinstance(entries, list) and rest[0] < len(entries) else None
        ident = entry.get("id") if isinstance(entry, dict) else None
        item, rest = (str(ident) if ident is not None else rest[0] + 1), rest[1:]
    elif section == "categories" and rest:
        item, rest = str(rest[0]), rest[1:]
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
    return section, item, key or None


def tell(catalog: Catalog, lang: str, problem: Problem) -> str:
    """One line: where, then what is wrong."""
    table = catalog.texts.get(lang, {})
    what = problem.what if f"config.problem.{problem.what}" in table else "other"
    params = {k: _shown(v) for k, v in problem.params.items()}
    params.setdefault("input", "-")
    params.setdefault("detail", problem.what)
    if isinstance(params.get("expected"), str) and table.get("config.choice_joiner"):
        # pydantic lists choices in English ("'a', 'b' or 'c'") whatever the community's language
        choices = re.split(r",\s*|\s+or\s+", params["expected"])
        params["expected"] = catalog.text(lang, "config.choice_joiner").join(choices)
    text = catalog.text(lang, f"config.problem.{what}", **params)
    return catalog.text(lang, "config.line", where=_place(catalog, lang, problem), problem=text)


def _place(catalog: Catalog, lang: str, problem: Problem) -> str:
    if problem.item is None:
        return ".".join(p for p in (problem.section, problem.key) if p) or "config"
    if isinstance(problem.item, int):
        item = catalog.text(lang, f"config.item_nth.{problem.section}", n=problem.item)
    else:
        item = catalog.text(lang, f"config.item.{problem.section}", id=problem.item)
    return catalog.text(lang, "config.where", item=item, field=problem.key) if problem.key else item


def _shown(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, (dict, list)):
        return "…"  # a whole section in a message helps nobody
    return value
