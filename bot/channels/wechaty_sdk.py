"""The Wechaty Python SDK (0.10.7), imported the one way that works on Python 3.11 and logs through ours.

Import wechaty from here, never directly: this module must run before the SDK's first import.
"""
from __future__ import annotations

import logging

from wechaty_puppet.schemas.puppet import PuppetOptions

# WechatyOptions has `puppet_options: PuppetOptions = PuppetOptions()`; Python 3.11's dataclasses reject an
# unhashable default as mutable ("mutable default … for field puppet_options"). A hash lets the import through;
# callers still pass a fresh PuppetOptions every time, because that default object would be shared.
PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign]

_before = set(logging.root.manager.loggerDict)

from wechaty import Contact, Message, Room, Wechaty, WechatyOptions  # noqa: E402
from wechaty_puppet import FriendshipType, MessageType  # noqa: E402
import wechaty_puppet_service  # noqa: E402,F401  (Wechaty loads it by name; import it now, with the rest)

# The SDK gives each of its loggers its own stderr handler at INFO; hand them to the application's logging,
# quiet unless something goes wrong, so they do not talk over the console channel.
for _name in set(logging.root.manager.loggerDict) - _before:
    _logger = logging.getLogger(_name)
    _logger.handlers, _logger.propagate = [], True
    _logger.setLevel(logging.WARNING)
# These warn on every connection about what this adapter does on purpose (token and endpoint both set, no
# plugin web service, the account's own contact loaded twice).
for _name in ("PuppetService", "wechaty.plugin", "Accessory"):
    logging.getLogger(_name).setLevel(logging.ERROR)



def fresh_pools(bot: Wechaty) -> None:
    """Give this bot's Contact, Room and Tag classes caches of their own.

    The SDK caches loaded contacts and rooms in a dict on the base class, shared by every bot it creates, and
    each cached object answers through the bot that loaded it. After a reconnect they would speak through a
    puppet that is gone, so every connection starts with empty pools.
    """
    for kind in (bot.Contact, bot.ContactSelf, bot.Room, bot.Tag):
        kind._pool = {}


__all__ = ["Contact", "FriendshipType", "Message", "MessageType", "PuppetOptions", "Room", "Wechaty", "WechatyOptions", "fresh_pools"]
