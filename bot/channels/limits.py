"""What each platform lets a bot send, in one place: pace per chat, per group and overall, and length.

Telegram publishes its limits: about 30 messages a second overall, 20 a minute into one group (one every 3 s),
about one a second into one private chat, 4,096 characters a message; the adapter's defaults come from here and
its settings may only make them gentler. WeChat publishes none: its pace comes from config (gentle, as accounts
that send fast are restricted) and its length is kept to what one chat bubble shows. The console has no limits.
"""
from __future__ import annotations

TELEGRAM_PRIVATE_GAP = 1.0
TELEGRAM_GROUP_GAP = 3.0
TELEGRAM_OVERALL_GAP = 1 / 30
TELEGRAM_MAX_LENGTH = 4096
WECHAT_MAX_LENGTH = 2000
MENTION_ROOM = 200  # characters kept free for the @mentions an adapter puts in front of the text
CUT = "…"


def fit(text: str, max_length: int | None) -> str:
    """The text cut to a platform's length, its last line (the command to answer with) kept whole."""
    if max_length is None or len(text) <= max_length - MENTION_ROOM:
        return text
    budget = max_length - MENTION_ROOM
    head, _, last = text.rpartition("\n")
    if not head or len(last) > budget // 2:  # one long paragraph: cut its end
        return text[:budget - len(CUT)] + CUT
    return head[:budget - len(last) - len(CUT) - 1] + CUT + "\n" + last
