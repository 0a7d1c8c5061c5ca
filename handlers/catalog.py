"""User-facing text, looked up by key in the recipient's language (zh-CN first, en second)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CATALOGS = Path(__file__).with_name("catalogs")
LANGUAGES = ("zh-CN", "en")


class Catalog:
    """All texts of all languages; missing keys fall back to zh-CN so a person always gets an answer."""

    def __init__(self, texts: dict[str, dict[str, str]], default: str = "zh-CN") -> None:
        self.texts = texts
        self.default = default

    @classmethod
    def load(cls, default: str = "zh-CN") -> Catalog:
        """Read every catalog file shipped with the handlers."""
        texts = {lang: _flatten(yaml.load((CATALOGS / f"{lang}.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader))
                 for lang in LANGUAGES}
        return cls(texts, default)

    def text(self, lang: str | None, key: str, **params: Any) -> str:
        """The text for key in lang, with params filled in."""
        table = self.texts.get(lang or self.default) or self.texts[self.default]
        template = table.get(key) or self.texts[self.default][key]
        return template.format(**params) if params else template

    def label(self, lang: str | None, group: str, value: str | None) -> str:
        """A short label such as a category or state name; the raw value when the catalog has none."""
        if value is None:
            return self.text(lang, f"{group}.none")
        table = self.texts.get(lang or self.default) or self.texts[self.default]
        return table.get(f"{group}.{value}", value)

    def role_before(self, lang: str | None, role: str | None, name: str) -> str:
        """The role to put before a person's name (网格长 王强); nothing when the name already says it (物业客服)."""
        label = self.label(lang, "role", role)
        return "" if name.startswith(label) else label


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value).rstrip("\n")
    return flat
