"""Which language to answer a person in: the one they clearly and repeatedly write, or the one they chose."""
from __future__ import annotations

import re
import unicodedata

from handlers.commands import Command, language_named, parse_rating
from handlers.offer_words import is_one_word_answer
from handlers.context import Turn
from handlers.errors import BadCommand
from storage.models import Person

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[A-Za-z]{2,}")
# A command, a link, a tag or a mention says nothing of the language the person writes in.
_NOT_WORDS = re.compile(r"^/\S+|https?://\S+|[#@＃＠]\S+")
_PROSE = re.compile(r"^[A-Za-z0-9\s.,!?'’\"()\-:]*$")  # what an English sentence is made of; code and markup are not


def detect(text: str) -> str | None:
    """zh-CN or en when the text clearly is that language, else None.

    Clearly English is three words or more of plain prose: "thank you", "/my", "'; DROP TABLE request;--" or
    "<b>x</b>" say nothing about the language a resident reads. Nor does a bare answer to a prompt, "满意" or "1":
    it is often a button's data, whatever the language of its label.
    """
    rating = parse_rating(text)
    if is_one_word_answer(text) or (rating is not None and rating[1] is None):
        return None
    rest = _NOT_WORDS.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    cjk, words = len(_CJK.findall(rest)), len(_WORD.findall(rest))
    if cjk >= 2 and cjk > 2 * words:
        return "zh-CN"
    if cjk == 0 and words >= 3 and _PROSE.match(rest):
        return "en"
    return None


def first_words(text: str, *, private: bool) -> str | None:
    """The language to meet a new person in: what `detect` finds, or, for a first private message, English from
    as little as 'hello' or 'my request?' (Latin words, no Chinese): answering it in Chinese would be lost on her."""
    clear = detect(text)
    if clear is not None or not private or is_one_word_answer(text) or parse_rating(text) is not None:
        return clear
    rest = _NOT_WORDS.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return "en" if _WORD.search(rest) and not _CJK.search(rest) and _PROSE.match(rest) else None


def heard(person: Person, language: str | None) -> None:
    """Follow the language a resident writes once she has written it twice running; never on one message.

    Staff languages come from config, and a language a person chose with 语言 / /lang stays until she chooses again.
    """
    if language is None or person.staff_id is not None or person.language_chosen:
        return
    if language == person.language:
        person.language_heard = None
    elif person.language_heard == language:
        person.language, person.language_heard = language, None
    else:
        person.language_heard = language


def choose(t: Turn, cmd: Command) -> None:
    """语言 中文 / /lang en: answer this person in that language from now on, whatever she writes."""
    language = language_named(cmd.rest)
    if language is None:
        raise BadCommand("error.language_unknown")
    t.person.language, t.person.language_chosen, t.person.language_heard = language, True, None
    t.reply("language.chosen")
