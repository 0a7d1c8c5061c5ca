"""Turning typed commands into verbs: 接单 37, /done 37 bulb replaced, 合并 38 到 37, 评价 37 满意."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

VERBS: dict[str, tuple[str, ...]] = {
    "claim": ("接单", "认领", "抢单", "claim", "take"),
    "progress": ("进展", "进度", "progress", "update"),
    "done": ("办结", "完成", "已办结", "done", "finish", "resolve"),
    "transfer": ("转派", "转交", "transfer", "reassign"),
    "escalate": ("上报", "吹哨", "escalate"),
    "merge": ("合并", "merge"),
    "reject": ("退回", "驳回", "reject"),
    "show": ("详情", "查看", "show", "detail", "details"),
    "mine": ("我的诉求", "我的", "my", "mine", "list"),
    "withdraw": ("撤回", "撤销", "withdraw", "cancel"),
    "add": ("补充", "add"),
    "rate": ("评价", "rate"),
    "help": ("帮助", "help"),
    "bind": ("绑定", "bind", "start"),
    "bindchat": ("绑定群", "bindchat"),
    "settle": ("已处理", "handled"),  # a kept message, by the leader or secretary
}
NEEDS_NUMBER = frozenset({"claim", "progress", "done", "transfer", "escalate", "merge", "reject", "show",
                          "withdraw", "add", "rate", "settle"})
TAKES_TEXT = frozenset({"bind", "bindchat"})  # 绑定 CODE, 绑定群 3号楼: text after the verb, no number
_BY_WORD = sorted(((w, verb) for verb, words in VERBS.items() for w in words), key=lambda p: -len(p[0]))
_NUMBER = re.compile(r"^(?:诉求)?[#＃]?(\d{1,7})\b\s*")
_BOT_SUFFIX = re.compile(r"^@\S+")


@dataclass(frozen=True)
class Command:
    """A verb with the request number and the rest of the line."""

    verb: str
    number: int | None = None
    rest: str = ""
    slash: bool = False


def parse_command(text: str, *, private: bool) -> Command | None:
    """The command a line asks for, or None when it is not one.

    In a group only a slash command or a verb followed by a number counts, so "办结了吗" stays chatter.
    """
    original = text.strip()
    line = unicodedata.normalize("NFKC", original)
    # Notes keep the resident's own punctuation where normalising did not change the length.
    source = original if len(line) == len(original) else line
    slash = line.startswith("/")
    lowered = (line[1:] if slash else line).lower()
    for word, verb in _BY_WORD:
        if not lowered.startswith(word):
            continue
        start = len(word) + (1 if slash else 0)
        tail, raw_tail = line[start:], source[start:]
        if word.isascii() and tail[:1].isalnum():
            continue
        if slash and (suffix := _BOT_SUFFIX.match(tail)):
            tail, raw_tail = tail[suffix.end():], raw_tail[suffix.end():]
        skip = len(tail) - len(tail.lstrip())
        tail, raw_tail = tail[skip:], raw_tail[skip:]
        match = _NUMBER.match(tail)
        number = int(match.group(1)) if match else None
        rest = (raw_tail[match.end():] if match else raw_tail).strip()
        if number is None and not (slash or private):
            return None
        if number is None and verb not in NEEDS_NUMBER and verb not in TAKES_TEXT and rest and not slash:
            return None
        return Command(verb, number, rest, slash)
    return None


_SCORES = [
    (re.compile(r"^(非常|很|十分)?不满意|^差评|^not (very )?satisfied|^unsatisfied|^dissatisfied"), 1),
    (re.compile(r"^基本满意|^一般|^还行|^还可以|^ok\b|^so-so|^fair"), 3),
    (re.compile(r"^(非常|很|十分)?满意|^好评|^very satisfied|^satisfied|^great|^good"), 5),
    # A digit counts only on its own or as 分/星: "3号楼…", "5分钟前…" and "2.5" are not scores.
    (re.compile(r"^([1-5])\s*(分|星|stars?)?(?=$|[\s,，。!！~～、]|\.(?!\d))"), None),
    (re.compile(r"^([一二三四五])\s*(分|星)"), None),
]
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def parse_rating(text: str) -> tuple[int, str | None] | None:
    """A score 1–5 and an optional comment, from '5', '4分 很及时', '满意', 'not satisfied'; else None."""
    line = unicodedata.normalize("NFKC", text).strip().lower()
    for pattern, score in _SCORES:
        match = pattern.match(line)
        if match:
            value = score if score is not None else int(_CN.get(match.group(1), match.group(1)))
            comment = line[match.end():].strip(" ,，。.!！") or None
            return value, comment
    return None


_YES = {"1", "是", "是的", "登记", "要", "好", "好的", "需要", "yes", "y", "ok", "file"}
_NO = {"2", "不用", "不", "否", "不需要", "算了", "no", "n"}


def parse_offer_answer(text: str) -> bool | None:
    """True for yes-file-it, False for no-thanks, None for anything else."""
    word = unicodedata.normalize("NFKC", text).strip().lower().strip("!！。.")
    return True if word in _YES else False if word in _NO else None


_GREETINGS = {"你好", "您好", "你好呀", "你好啊", "您好呀", "在吗", "在不在", "嗨", "哈喽", "早", "早上好", "下午好",
              "晚上好", "hi", "hello", "hey", "good morning"}


def is_greeting(text: str) -> bool:
    """'你好' (which the bot's invitation asks residents to send), 'hello', '在吗': nothing more than hello."""
    return unicodedata.normalize("NFKC", text).strip().lower().strip("!！。.~～?？,， ") in _GREETINGS
