"""One-time sign-in links to the web workbench: signed (itsdangerous), dated by the bot's clock, ten minutes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, URLSafeSerializer

VALID_FOR = timedelta(minutes=10)
WEB_ROLES = ("grid_member", "leader", "secretary")  # as permissions.TABLE["web"]: no volunteer, desk or resident


@dataclass(frozen=True)
class SignInLinks:
    """Makes and reads sign-in links with the process's secret key."""

    secret: str
    base_url: str
    per_hour: int = 5

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="doorstep-web-signin")

    def make(self, person_id: int, nonce: str, at: datetime) -> str:
        """The link that signs this person in."""
        token = self._serializer().dumps([person_id, nonce, int(at.timestamp())])
        return f"{self.base_url.rstrip('/')}/signin/{token}"

    def read(self, token: str, now: datetime) -> tuple[int, str] | None:
        """(person id, nonce) of a genuine link still within its ten minutes; None for any other."""
        try:
            person_id, nonce, issued = self._serializer().loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        issued_at = datetime.fromtimestamp(int(issued), timezone.utc)
        if not timedelta(0) <= now - issued_at <= VALID_FOR:
            return None
        return int(person_id), str(nonce)
