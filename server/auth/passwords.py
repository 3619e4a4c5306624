"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
# Verified against when the username does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("tsunagu-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; always spends one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def weak_password_reason(password: str, username: str = "") -> str | None:
    if len(password) < 10:
        return "password must have at least 10 characters"
    if username and username.lower() in password.lower():
        return "password must not contain the username"
    if len(set(password)) < 4:
        return "password is too simple"
    return None
