"""The answer to the bot's offer to file ("需要登记吗？") in a resident's own words: yes, no, or neither."""
from __future__ import annotations

import re
import unicodedata

# A bare answer is nothing but yes-words or nothing but no-words, each maybe with a particle: "嗯嗯 要的", "好滴",
# "好的 麻烦登记", "不用了 谢谢", "yes please". "可以吗", "不好", "要不要" are neither.
_PARTICLE = "[的了吧啊呀哈滴哒嘞咯]*"
_YES = re.compile("^(?:(?:yesplease|yeah|yep|yes|okay|ok|sure|please|file|y|1|是|对|嗯|恩|要|好|行|可以|中|需要|登记"
                  "|麻烦|请|帮我)" + _PARTICLE + ")+$")
_NO = re.compile("^(?:(?:nope|no|n|2|不需要|不登记|不用|不要|不了|不|否|算了|没事)" + _PARTICLE + ")+$")
_THANKS_AFTER = re.compile(r"(谢谢|谢了|多谢|thanks|thankyou|thx)$")
_SPELT = str.maketrans("記煩對謝確當", "记烦对谢确当")  # traditional characters an answer may be typed in


_ONE_WORD = {"1", "2", "是", "是的", "登记", "要", "好", "好的", "需要", "不用", "不", "否", "不需要", "算了", "yes", "y",
             "ok", "file", "no", "n"}


def is_one_word_answer(text: str) -> bool:
    """'1', '好的', 'no': what a prompt's button sends or one word answers, saying nothing of the language she reads
    ("好的谢谢" does say Chinese)."""
    return unicodedata.normalize("NFKC", text).strip().lower().strip("!！。.") in _ONE_WORD


def parse_offer_answer(text: str) -> bool | None:
    """True for yes-file-it, False for no-thanks, None for anything else."""
    word = re.sub(r"[\s!！。.,，~～、]+", "", unicodedata.normalize("NFKC", text).lower().translate(_SPELT))
    word = _THANKS_AFTER.sub("", word)
    return True if _YES.match(word) else False if _NO.match(word) else None


# "算了 还是登记一下吧": changed her mind, to yes. Then a negation anywhere says no ("不用登记", "别记了", "算了");
# else a yes-word anywhere says yes ("好的登记吧", "嗯嗯 帮我登记", "要").
_CHANGED = re.compile(r"还是(要|得|想|帮我)?(登记|记|要)")
_NEGATED = re.compile(r"不用|不要|不需要|不必|不登记|先不|别|算了|没事|\bno\b|\bnope\b|don'?t|not now")
_AFFIRMED = re.compile(r"登记|记一下|记下|要|好|需要|可以|行|嗯|对|麻烦|\byes\b|\byeah\b|\bok\b|\bsure\b|please|\bfile\b")
_FILING = re.compile(r"登记|记一下|记下|\bfile\b")
OFFER_ANSWER_MAX = 16  # longer words are a message of their own, not an answer to "登记吗？"


def says_file(text: str) -> bool:
    """Whether short words speak of filing itself ("好的登记吧", "不用登记"), not only say yes or no."""
    word = unicodedata.normalize("NFKC", text).strip().lower()
    return len(word) <= OFFER_ANSWER_MAX and _FILING.search(word) is not None


def read_offer_answer(text: str) -> bool | None:
    """The answer to "需要登记为诉求吗？" in a resident's own words: the bare ones parse_offer_answer reads, and
    short sentences with a yes or a no in them; None when it holds neither (or is too long to be an answer)."""
    bare = parse_offer_answer(text)
    word = unicodedata.normalize("NFKC", text).strip().lower()
    if bare is not None or len(word) > OFFER_ANSWER_MAX:
        return bare
    if _CHANGED.search(word):
        return True
    if _NEGATED.search(word):
        return False
    return True if _AFFIRMED.search(word) else None
