"""网页 / /web: a staff member asks the bot privately for a one-time link that signs her in to the web workbench.

The link (handlers/signin_links.py) carries the person's id, a random nonce and when it was issued, signed. It
works for ten minutes and once (the nonce is spent in the ledger when used). It is sent only in a private chat,
only to the roles the workbench serves, and at most `links_per_hour` times an hour per person.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from handlers import permissions
from handlers.commands import Command
from handlers.context import Turn
from handlers.signin_links import VALID_FOR


def web_link(t: Turn, cmd: Command) -> None:
    """网页: a one-time sign-in link, to staff who may use the workbench, in private, within the hourly limit."""
    links = t.svc.links
    if links is None:
        t.reply("web.disabled")
        return
    permissions.check(t, "web")
    if not t.msg.is_private:  # anyone in the group could follow a link posted there
        t.reply("web.private_only")
        return
    if t.uow.ledger.links_issued_since(t.person.id, t.now - timedelta(hours=1)) >= links.per_hour:
        t.reply("web.too_many", n=links.per_hour)
        return
    nonce = secrets.token_urlsafe(12)
    t.uow.ledger.issue_link(t.person.id, nonce, t.now)
    t.reply("web.link", url=links.make(t.person.id, nonce, t.now), minutes=int(VALID_FOR.total_seconds() // 60))
