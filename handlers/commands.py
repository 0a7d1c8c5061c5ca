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
    "show": ("详情", "查看", "查询", "show", "detail", "details", "status"),
    "mine": ("我的诉求", "我的投诉", "我的报修", "我的", "查看进度", "查询进度", "进度查询", "列表", "my requests",
             "my request", "my", "mine", "list"),
    "overdue": ("超时", "overdue"),
    "digest": ("日报", "简报", "今日日报", "digest", "daily"),  # today's digest now, for those it goes to
    "withdraw": ("撤回", "撤销", "withdraw", "cancel"),
    "add": ("补充", "add"),
    "rate": ("评价", "rate"),
    "help": ("帮助", "help"),
    "bind": ("绑定", "bind", "start"),
    "bindchat": ("绑定群", "bindchat"),
    "lang": ("语言", "language", "lang"),
    "settle": ("已处理", "handled"),  # a kept message, by the leader or secretary
    "web": ("网页", "web", "workbench"),  # a sign-in link to the web workbench, alone and in private
}
NEEDS_NUMBER = frozenset({"claim", "progress", "done", "transfer", "escalate", "merge", "reject", "show",
                          "withdraw", "add", "rate", "settle"})
BINDING = frozenset({"bind", "bindchat"})
TAKES_TEXT = BINDING | {"lang"}  # 绑定 CODE, 绑定群 3号楼, 语言 中文: text, no number
# Alone on a line these count in a group too: the help text tells residents to send 帮助 and 我的诉求 there.
ALONE_IN_GROUP = frozenset({"help", "mine"})
_END = " !！。.?？~～"
LANGUAGES = {"zh-CN": ("中文", "汉语", "简体中文", "普通话", "chinese", "zh", "zh-cn", "cn"),
             "en": ("english", "英文", "英语", "en")}
_BY_WORD = sorted(((w, verb) for verb, words in VERBS.items() for w in words), key=lambda p: -len(p[0]))
# Any digits, and a sign: "接单 12345678" or "接单 -1" names a request that does not exist, not no number at all;
# "接单 1.5" names none (it used to claim #1).
_NUMBER = re.compile(r"^(?:诉求)?[#＃]?(-?\d+)\b(?!\.\d)\s*")


@dataclass(frozen=True)
class Command:
    """A verb with the request number and the rest of the line."""

    verb: str
    number: int | None = None
    rest: str = ""
    slash: bool = False


def parse_command(text: str, *, private: bool) -> Command | None:
    """The command a line asks for, or None when it is not one.

    In a group only a slash command, a verb followed by a number, or 帮助 / 我的诉求 alone counts, so "办结了吗" and
    "我的快递到了" stay chatter.
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
        skip = len(tail) - len(tail.lstrip())
        tail, raw_tail = tail[skip:], raw_tail[skip:]
        if verb in BINDING:  # 绑定群 3号楼, 绑定群 3, 绑定 7731: the text is the argument, not a number
            rest = raw_tail.strip()
            return Command(verb, None, rest, slash) if slash or private or _said_in_group(verb, rest) else None
        match = _NUMBER.match(tail) if verb not in TAKES_TEXT else None  # 语言 中文: text
        number = int(match.group(1)) if match else None
        rest = (raw_tail[match.end():] if match else raw_tail).strip()
        alone = not rest.strip(_END)
        if verb == "lang" and not (slash or private and alone) and language_named(rest) is None:
            return None  # "语言学习班" is no command; "语言 中文" is one, in a group too
        if number is None and not (slash or private or verb == "lang" or (verb in ALONE_IN_GROUP and alone)):
            return None
        if number is None and verb not in NEEDS_NUMBER and verb not in TAKES_TEXT and not alone and not slash:
            return None
        return Command(verb, number, "" if alone else rest, slash)
    return None


def language_named(text: str) -> str | None:
    """zh-CN for '中文', 'zh', 'Chinese'; en for 'English', '英文', 'en'; else None."""
    word = unicodedata.normalize("NFKC", text).strip(_END).lower()
    return next((code for code, names in LANGUAGES.items() if word in names), None)


def _said_in_group(verb: str, rest: str) -> bool:
    """Whether a binding command without its slash is one in a group: 绑定群 alone or with a building number
    (绑定群里的人 is chatter), 绑定 with something after it (the dispatcher keeps only a real binding code)."""
    if verb == "bindchat":
        return not rest or any(ch.isdigit() for ch in rest)
    return bool(rest)


_SCORES = [
    (re.compile(r"^(非常|很|十分)?不满意|^差评|^not (very )?satisfied|^unsatisfied|^dissatisfied"), 1),
    (re.compile(r"^不行|^太差|^很差"), 1),
    (re.compile(r"^基本满意|^一般|^还行|^还可以|^凑合|^ok\b|^so-so|^fair"), 3),
    (re.compile(r"^(非常|很|十分)?满意|^好评|^挺好|^很好|^不错|^very satisfied|^satisfied|^great|^good"), 5),
    # A digit counts only on its own or as 分/星: "3号楼…", "5分钟前…" and "2.5" are not scores.
    (re.compile(r"^([1-5])\s*(分|星|stars?)?(?=$|[\s,，。!！~～、]|\.(?!\d))"), None),
    (re.compile(r"^([一二三四五])\s*(分|星)"), None),
]
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


_PARTICLES = re.compile(r"[吧啊呀了哈嘛呢啦哦噢喔的]+")


def parse_rating(text: str) -> tuple[int, str | None] | None:
    """A score 1–5 and an optional comment, from '5', '4分 很及时', '满意', 'not satisfied'; else None."""
    line = unicodedata.normalize("NFKC", text).strip().lower()
    for pattern, score in _SCORES:
        match = pattern.match(line)
        if match:
            value = score if score is not None else int(_CN.get(match.group(1), match.group(1)))
            comment = line[match.end():].strip(" ,，。.!！~～")
            # "基本满意吧", "满意了哈": a particle closing the verdict is no comment for the grid member.
            return value, (None if not comment or _PARTICLES.fullmatch(comment) else comment)
    return None


# Words that can only be a verdict; 一般, 还行, ok and a digit before other words can mean something else.
_VERDICT = re.compile(r"^((非常|很|十分)?不?满意|基本满意|差评|好评|(very |not (very )?|un|dis)?satisfied"
                      r"|[1-5一二三四五]\s*(分|星|stars?)|[1-5]$)")


def is_verdict(text: str) -> bool:
    """Whether a message is a score and nothing else: '不满意 还是不热', '4分 很及时', '5', 'satisfied'."""
    return _VERDICT.match(unicodedata.normalize("NFKC", text).strip().lower()) is not None


_GREETINGS = {"你好", "您好", "你好呀", "你好啊", "您好呀", "在吗", "在不在", "有人吗", "嗨", "哈喽", "早", "早上好",
              "下午好", "晚上好", "大家好", "hi", "hello", "hey", "good morning"}
_THANKS = ("谢谢", "感谢", "多谢", "辛苦", "thank", "thx", "👍", "🙏")
_ACKNOWLEDGED = {"好", "好的", "好滴", "收到", "嗯", "嗯嗯", "知道了", "明白", "ok", "okay"}
_PARTS = re.compile(r"[\s,，。!！?？~～、]+")


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().strip("!！。.~～?？,， ")


def is_greeting(text: str) -> bool:
    """'你好' (which the bot's invitation asks residents to send), 'hello', '在吗？有人吗': nothing more than hello."""
    return all(part in _GREETINGS for part in _PARTS.split(_plain(text)))


_STATUS = re.compile(r"怎么样了|修好了?[吗没么]|好了[吗没么]|有人管[吗没么]|有人[来修]了?[吗没么]"
                     r"|(什么|啥|几)时候[修来弄处管到]|(师傅|人)(什么时候|啥时候|几时|哪天)?(来|到)了?[吗没么]"
                     r"|(进展|进度)(如何|怎样|怎么样|呢|到哪)|处理(了[吗没么]|得怎么样|到哪)|有(进展|进度|消息|回复|结果|回音)了?[吗没么]"
                     r"|(修|处理|解决|办)(好|完)?了[吗没么]|(进展|进度)呢"
                     r"|any (news|update)|what'?s the status|is it (fixed|done)|when will"
                     r"|\bmy (requests?|reports?|complaints?)\b")


def is_status_question(text: str) -> bool:
    """'电梯修好了吗', '修好了嗎', '师傅啥时候来啊', 'any news?': asking how her requests stand, not reporting one."""
    return _STATUS.search(_simplified(text)) is not None


# Traditional characters residents type in questions and complaints (修好了嗎, 還是不亮): read as simplified.
_TRADITIONAL = str.maketrans("嗎麼沒還來處辦壞燈電梯師傅時候給滿會個無聲響", "吗么没还来处办坏灯电梯师傅时候给满会个无声响")


def _simplified(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().translate(_TRADITIONAL)


# "灯还是不亮", "根本没人来", "还没修好", "still broken": the job a request was closed for is not done.
_NOT_FIXED = re.compile(r"还是(不|没|坏|漏|老样子|一样|有)|还没(修|好|弄|人|来|解决|处理)|没(修|弄|整|处理|解决)好|根本没(人|修|来)"
                        r"|没(人|有人)来|骗人|又坏|又不(亮|动|出|通)|依然|仍然|照样|一点没变"
                        r"|still (broken|not|doesn'?t|leaking|no)|not (fixed|done|repaired)|nobody came")
# Chasing a request: how long it is taking.
_CHASE = re.compile(r"(什么|啥|几)时候|到底|到现在|怎么还|还没|都(第?[一二三四五六七八九十两\d]+)(天|周|个星期)|催|多久"
                    r"|有没有人(管|来|修|弄|处理)|how long|still waiting|\b(is|has) (any|some)(one|body)\b"
                    r"|\b(any|some)(one|body) (fixing|coming|looking|working|doing)|when (is|will)")


def says_not_fixed(text: str) -> bool:
    """Whether a message says a job is not done: '灯还是不亮啊 骗人 根本没人来换'."""
    return _NOT_FIXED.search(_simplified(text)) is not None


def is_chase(text: str) -> bool:
    """Whether a message presses about a delay: '楼道灯到底什么时候修啊 都第二天了'."""
    return _CHASE.search(_simplified(text)) is not None or says_not_fixed(text)


# A score within a sentence: "…给个3分吧", "打4星", "总体还是满意的", "给个好评".
_SCORE_IN = [
    (re.compile(r"(给个?|打个?)?\s*([1-5一二三四五])\s*(分(?!钟)|星|stars?)[吧啊呀了哈嘛]*|(给个?|打个?)\s*([1-5])(?!\d)[吧啊呀了哈嘛]*"), None),
    (re.compile(r"((非常|很|十分)?不满意|(给个?)?差评)[吧啊呀了哈嘛]*"), 1),
    (re.compile(r"基本满意[吧啊呀了哈嘛]*"), 3),
    (re.compile(r"((非常|很|十分)?满意|(给个?)?好评)[吧啊呀了哈嘛]*"), 5),
]


def find_rating(text: str) -> tuple[int, str | None] | None:
    """A score said within a sentence, and the rest of it as her comment; None when it holds none.

    Only for someone a rating is asked of: '修好了 就是还有异响 给个3分吧' is a 3 with '修好了 就是还有异响'.
    """
    whole = parse_rating(text)
    if whole is not None:
        return whole
    line = unicodedata.normalize("NFKC", text).strip()
    for pattern, score in _SCORE_IN:
        match = pattern.search(line)
        if match is None:
            continue
        if score is None:
            digit = match.group(2) or match.group(5)
            score = int(_CN.get(digit, digit))
        comment = (line[:match.start()] + " " + line[match.end():]).strip(" ,，。.!！~～")
        return score, (None if not comment or _PARTICLES.fullmatch(comment) else comment)
    return None


def is_thanks(text: str) -> bool:
    """'谢谢', '辛苦了', 'thank you', '好的', '收到': thanks or an acknowledgement (of a message that is no report)."""
    word = _plain(text)
    return word in _ACKNOWLEDGED or any(thanks in word for thanks in _THANKS)


# "+1", "+1 我家老人也在等电梯", "我家也停水了", "我们这也没水", "同问": a neighbour has the same problem.
_ME_TOO = re.compile(r"^\s*[+]\s*1(?![\d.])|^\s*同(上|问|样)?\s*$|我家也|我们家也|我们这也|我这也|我也是"
                     r"|也(没[水电气网]|停[水电气]|漏|坏|不(亮|出水))|我也(闻|听|看|感觉|发现|觉得|遇)"
                     r"|\bme too\b|same here|\b(i|we) (smell|hear|see|have) it too")


def says_me_too(text: str) -> bool:
    """'+1', '我家也停水了': the same problem at a neighbour's."""
    return _ME_TOO.search(unicodedata.normalize("NFKC", text)) is not None
