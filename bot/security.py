"""Staff passwords: hashing (argon2id via argon2-cffi) and the password policy."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
_TRAILING = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower-case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(s.strip().lower() for s in lines if s.strip() and not s.startswith("#"))


def password_problem(password: str, username: str = "") -> str | None:
    """Why a staff password is refused (a Chinese sentence), or None when it is acceptable: at
    least 12 characters, not the username nor containing it, not a common password (also with
    digits or symbols appended), and not just one or two characters repeated."""
    lowered = password.lower()
    name = username.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要{MIN_PASSWORD_LENGTH}个字符。"
    if name and (lowered == name or name in lowered):
        return "密码不能包含用户名。"
    common = common_passwords()
    if lowered in common or _TRAILING.sub("", lowered) in common or len(set(password)) < 4:
        return "该密码过于常见或过于简单,请换一个不易猜到的密码(可使用较长的短语)。"
    return None
