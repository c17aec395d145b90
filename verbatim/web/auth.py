"""Accounts and sessions of the app: argon2 password hashes, the session secret, CSRF tokens, and a small
brake on repeated wrong passwords."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from verbatim.errors import VerbatimError
from verbatim.paths import secret_file

SECRET_ENV = "VERBATIM_SECRET_KEY"
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise VerbatimError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; an unknown user (``None``) costs the same time as a wrong password."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def secret_key(path: Path | None = None) -> str:
    """``VERBATIM_SECRET_KEY``, else the key kept in ``path`` (default: VERBATIM_DATA_DIR/.secret_key; created once,
    readable by its owner only)."""
    path = path or secret_file()
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: object, given: object) -> bool:
    return (
        isinstance(expected, str) and isinstance(given, str) and bool(expected) and hmac.compare_digest(expected, given)
    )
