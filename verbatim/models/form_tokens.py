"""One-time form tokens: every form that changes something carries a fresh random token; the first request that
brings it uses it up, and a second one with the same token (a double click, a form sent again from the history)
is told so and changes nothing. Used tokens are kept in the store, so every server process sees them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from verbatim.models.store import Store
from verbatim.models.tables import FormTokenRow

#: Used tokens older than this are forgotten (a page left open longer than this acts again if sent again).
KEEP = timedelta(days=7)
MAX_LENGTH = 64


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


class FormTokens:
    def __init__(self, store: Store) -> None:
        self.store = store

    def use(self, token: str, user: str) -> bool:
        """True if ``token`` was not used before (it is now); False if it was."""
        now = datetime.now(UTC)
        try:
            with self.store.session() as s:
                s.add(FormTokenRow(token=token, user_name=user, used_at=now))
        except IntegrityError:
            return False
        if secrets.randbelow(100) == 0:  # now and then, forget old tokens
            with self.store.session() as s:
                s.execute(delete(FormTokenRow).where(FormTokenRow.used_at < now - KEEP))
        return True

    def release(self, token: str) -> None:
        """Make ``token`` usable again: the action it was used for failed and changed nothing."""
        with self.store.session() as s:
            s.execute(delete(FormTokenRow).where(FormTokenRow.token == token))
