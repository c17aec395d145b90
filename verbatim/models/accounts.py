"""Accounts of the app beyond their creation: login sessions that the server can end, personal API tokens, roles,
passwords and deactivation.

A session or a token is a random secret handed to its holder; the store keeps only its SHA-256, so a copy of the
database opens nothing. A session counts only while it is unrevoked, younger than its maximum age and its user
active; a token only while it is unrevoked and its user active. Logout ends one session; a password change, a role
change and deactivation end every session of the account (its tokens stay, and act with the new role; deactivation
stops them too, since an inactive user's token opens nothing). Each call commits before it returns.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from verbatim.errors import StoreError
from verbatim.models.decisions import Role, User
from verbatim.models.store import Store
from verbatim.models.tables import ApiTokenRow, LoginFailureRow, SessionRow, UserRow

#: Prefix of every API token, so that a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "vbt_"
MAX_LABEL = 200
#: How precisely a token's last use is kept.
LAST_USED_STEP = timedelta(minutes=1)


def digest(secret: str) -> str:
    """The SHA-256 (hex) under which a session id or a token is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """An API token as the store knows it (never the token itself)."""

    id: int
    user_name: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _user(row: UserRow) -> User:
    return User(row.name, Role(row.role), row.password_hash, bool(row.active))


def _token(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.user_name, row.label, row.created_at, row.last_used_at, row.revoked_at)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Accounts:
    """Sessions, tokens and the settings of accounts, over the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- accounts ------------------------------------------------------------------------------------------------
    def accounts(self) -> list[User]:
        """Every account, active or not, by name."""
        with self.store.session() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def account(self, name: str) -> User | None:
        with self.store.session() as s:
            row = s.get(UserRow, name)
            return None if row is None else _user(row)

    def set_role(self, name: str, role: Role) -> User:
        """Give ``name`` another role; their sessions end (their tokens act with the new role)."""
        with self.store.session() as s:
            row = self._row(s, name)
            row.role = str(Role(role))
            self._end_sessions(s, name)
            return _user(row)

    def set_password(self, name: str, password_hash: str, *, keep_session: str | None = None) -> User:
        """A new password hash for ``name``; every session of theirs ends, but ``keep_session`` (the session of a
        user changing their own password)."""
        with self.store.session() as s:
            row = self._row(s, name)
            row.password_hash = password_hash
            self._end_sessions(s, name, keep=keep_session)
            return _user(row)

    def deactivate(self, name: str) -> User:
        """``name`` can no longer log in; their sessions end and their tokens stop working."""
        with self.store.session() as s:
            row = self._row(s, name)
            row.active = False
            self._end_sessions(s, name)
            return _user(row)

    def reactivate(self, name: str) -> User:
        """``name`` may log in again (with the same password); their old sessions stay ended."""
        with self.store.session() as s:
            row = self._row(s, name)
            row.active = True
            return _user(row)

    @staticmethod
    def _row(s: Session, name: str) -> UserRow:
        row = s.get(UserRow, name)
        if row is None:
            known = s.scalars(select(UserRow.name).order_by(UserRow.name)).all()
            raise StoreError(f"unknown user '{name}'; users are: {', '.join(known) or 'none yet'}")
        return row

    # -- sessions ------------------------------------------------------------------------------------------------
    def open_session(self, name: str) -> str:
        """A new session of ``name`` (an active user); returns its id, to keep in the signed cookie."""
        session_id = secrets.token_urlsafe(32)
        with self.store.session() as s:
            row = self._row(s, name)
            if not row.active:
                raise StoreError(f"user '{name}' is deactivated")
            s.add(SessionRow(session_id=digest(session_id), user_name=name, created_at=datetime.now(UTC)))
        return session_id

    def session_user(self, session_id: str, max_age: timedelta | None = None) -> User | None:
        """The user of an open session: unrevoked, younger than ``max_age``, its user active; else ``None``."""
        if not session_id:
            return None
        with self.store.session() as s:
            found = s.execute(
                select(SessionRow, UserRow)
                .join(UserRow, UserRow.name == SessionRow.user_name)
                .where(SessionRow.session_id == digest(session_id), SessionRow.revoked_at.is_(None))
            ).first()
            if found is None:
                return None
            session, user = found
            if not user.active:
                return None
            if max_age is not None and datetime.now(UTC) - _aware(session.created_at) > max_age:
                return None
            return _user(user)

    def end_session(self, session_id: str) -> None:
        """Logout: the session opens nothing any more, in every process."""
        with self.store.session() as s:
            s.execute(
                update(SessionRow)
                .where(SessionRow.session_id == digest(session_id), SessionRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )

    def end_sessions(self, name: str) -> None:
        """End every session of ``name``."""
        with self.store.session() as s:
            self._end_sessions(s, name)

    @staticmethod
    def _end_sessions(s: Session, name: str, keep: str | None = None) -> None:
        stmt = update(SessionRow).where(SessionRow.user_name == name, SessionRow.revoked_at.is_(None))
        if keep:
            stmt = stmt.where(SessionRow.session_id != digest(keep))
        s.execute(stmt.values(revoked_at=datetime.now(UTC)))

    # -- API tokens ----------------------------------------------------------------------------------------------
    def create_token(self, name: str, label: str = "") -> tuple[TokenInfo, str]:
        """A new personal token of ``name``: its record and the token itself, shown once and never stored."""
        label = label.strip()[:MAX_LABEL]
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.session() as s:
            user = self._row(s, name)
            if not user.active:
                raise StoreError(f"user '{name}' is deactivated: reactivate the account first")
            row = ApiTokenRow(user_name=name, token_hash=digest(token), label=label, created_at=datetime.now(UTC))
            s.add(row)
            s.flush()
            return _token(row), token

    def token_user(self, token: str) -> User | None:
        """The user a token acts for (unrevoked, its user active), noting when it was last used; else ``None``."""
        if not token:
            return None
        with self.store.reading() as s:  # the write below, now and then, is one row's
            found = s.execute(
                select(ApiTokenRow, UserRow)
                .join(UserRow, UserRow.name == ApiTokenRow.user_name)
                .where(ApiTokenRow.token_hash == digest(token), ApiTokenRow.revoked_at.is_(None))
            ).first()
            if found is None or not found[1].active:
                return None
            now = datetime.now(UTC)
            last = found[0].last_used_at
            if last is None or now - _aware(last) > LAST_USED_STEP:  # not a write for every request
                found[0].last_used_at = now
            return _user(found[1])

    def tokens(self, name: str | None = None) -> list[TokenInfo]:
        """The tokens of ``name`` (of everyone by default), revoked ones included, oldest first."""
        with self.store.session() as s:
            stmt = select(ApiTokenRow).order_by(ApiTokenRow.id)
            if name is not None:
                self._row(s, name)
                stmt = stmt.where(ApiTokenRow.user_name == name)
            return [_token(r) for r in s.scalars(stmt)]

    def revoke_token(self, token_id: int) -> TokenInfo:
        """Stop token ``token_id`` for good (revoking it again changes nothing)."""
        with self.store.session() as s:
            row = s.get(ApiTokenRow, token_id)
            if row is None:
                raise StoreError(f"no API token number {token_id}")
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            return _token(row)


class LoginBrake:
    """After ``limit`` wrong passwords for a name within ``window``, refuse that name for the rest of the window.

    The failures are in the store, so the brake holds whichever of the server's processes answers."""

    def __init__(self, store: Store, limit: int = 5, window: timedelta = timedelta(minutes=5)) -> None:
        self.store = store
        self.limit = limit
        self.window = window

    def blocked(self, name: str) -> bool:
        since = datetime.now(UTC) - self.window
        with self.store.session() as s:
            recent = s.scalar(
                select(func.count())
                .select_from(LoginFailureRow)
                .where(LoginFailureRow.user_name == name[:200], LoginFailureRow.failed_at > since)
            )
        return int(recent or 0) >= self.limit

    def failed(self, name: str) -> None:
        now = datetime.now(UTC)
        with self.store.session() as s:
            s.add(LoginFailureRow(user_name=name[:200], failed_at=now))
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.failed_at < now - self.window))

    def succeeded(self, name: str) -> None:
        with self.store.session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.user_name == name[:200]))
