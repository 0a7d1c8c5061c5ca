"""Random messages for the fuzz test and bench/chaos.py: text, commands with random arguments, control and
surrogate characters, 10,000-character messages, from every role, in a group and in private; and what must hold
after each one."""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from hypothesis import strategies as st

from bot.app import App
from handlers import binding
from handlers.commands import VERBS, parse_command
from handlers.messages import Inbound
from storage.models import Offer, Outbox
from storage.uow import UnitOfWork
from sqlmodel import func, select

# (console name, role) for each role of the shipped config; 王阿姨 and 李大爷 are residents.
SENDERS = (("王阿姨", "resident"), ("李大爷", "resident"), ("李建国", "grid_member"), ("王强", "leader"),
           ("赵书记", "secretary"), ("陈志远", "volunteer"), ("物业客服", "property"))
GROUPS = ("3号楼业主群", "5号楼业主群", "幸福里大群")
WORDS = tuple(word for words in VERBS.values() for word in words)
# Any character, with control characters (NUL too), lone surrogates and the words of this bot well represented.
EVERY_CHARACTER = st.one_of(st.characters(), st.characters(categories=["Cc", "Cs"]),
                            st.sampled_from("家门口诉求号楼电梯灯坏了满意不#＃ 0123456789@/"))

numbers = st.one_of(st.integers(min_value=-5, max_value=10**9).map(str), st.sampled_from(["#1", "＃2", "诉求#3", ""]))
arguments = st.one_of(st.text(EVERY_CHARACTER, max_size=30),
                      st.sampled_from(["满意", "不满意", "5", "到 1", "张伟", "没有这个人", "已更换", "3号楼2单元"]))
commands = st.builds(lambda slash, word, number, rest: f"{'/' if slash else ''}{word} {number} {rest}".strip(),
                     st.booleans(), st.sampled_from(WORDS), numbers, arguments)
reports = st.builds(lambda tag, building, body: f"{tag}{building}号楼{body}",
                    st.sampled_from(["#投诉 ", "#微心愿 ", "", "@小区助手 "]), st.integers(0, 12),
                    st.text(EVERY_CHARACTER, max_size=40))
long_texts = st.builds(lambda piece, start: (start + piece * 10_000)[:10_000],
                       st.text(EVERY_CHARACTER, min_size=1, max_size=8), st.sampled_from(["", "#投诉 ", "进展 1 "]))
texts = st.one_of(st.text(EVERY_CHARACTER, max_size=200), commands, reports, long_texts,
                  st.sampled_from(["1", "2", "满意", "我的", "帮助", "help", "/start", "", " ", "\x00", "\ud800"]))


@st.composite
def messages(draw, serial=iter(range(10**12))) -> Inbound:
    """One message from a random role in a random chat; ids are unique, so none is a redelivery."""
    name, _role = draw(st.sampled_from(SENDERS))
    private = draw(st.booleans())
    chat = f"@{name}" if private else draw(st.sampled_from(GROUPS))
    return Inbound(channel="console", chat_id=chat, chat_kind="private" if private else "group",
                   sender_id=name, sender_name=draw(st.sampled_from([name, name + "\x00", name + "\udc80"])),
                   text=draw(texts), message_id=f"fuzz-{next(serial)}", sender_chat=f"@{name}",
                   reply_to=draw(st.sampled_from([None, None, None, "m1", "m99999"])))


@dataclass
class Tally:
    """What went wrong over a fuzz run (all should stay 0)."""

    messages: int = 0
    exceptions: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    spooled: list[str] = field(default_factory=list)
    apologies: list[str] = field(default_factory=list)


def replies_in(app: App, channel: str, chat_id: str) -> int:
    with UnitOfWork(app.db) as uow:
        return uow.session.exec(select(func.count()).select_from(Outbox)
                                .where(Outbox.channel == channel, Outbox.chat_id == chat_id)).one()


def failed_offers(app: App) -> int:
    with UnitOfWork(app.db) as uow:
        return uow.session.exec(select(func.count()).select_from(Offer).where(Offer.status == "failed")).one()


def feed(app: App, message: Inbound, tally: Tally) -> None:
    """Hand one message to the app as a channel would, and note what went wrong."""
    tally.messages += 1
    # A command as the dispatcher sees one: the bot's @name taken out, and a 绑定 without a code in a group chatter.
    text, named = app.services.reader.without_mention(message.storable().text)
    command = binding.screened(parse_command(text, private=message.is_private or message.mentions_bot or named),
                               message, app.services.community)
    before = replies_in(app, message.channel, message.chat_id) if command else 0
    apologies = failed_offers(app)
    try:
        app.handle(message)
    except Exception as error:
        tally.exceptions.append(f"{message.text[:60]!r}: {error!r}")
        return
    if app.spool.waiting:
        tally.spooled.append(repr(message.text[:60]))
        app.spool.path.unlink(missing_ok=True)
        app.spool.waiting = 0
    if failed_offers(app) > apologies:
        tally.apologies.append(repr(message.text[:60]))
    if command and replies_in(app, message.channel, message.chat_id) == before:
        tally.unanswered.append(repr(message.text[:60]))


def fuzz(app: App, count: int, *, derandomize: bool) -> Tally:
    """Feed `count` generated messages to the app (a fixed sequence when derandomized, as CI wants); the tally."""
    tally = Tally()

    @hypothesis_settings(max_examples=count, deadline=None, derandomize=derandomize, database=None,
                         phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(message=messages())
    def one(message):
        feed(app, message, tally)
    one()
    return tally
