"""Password hashing (Argon2id) and the password policy (AUTH-02, AUTH-07).

The policy defaults to the MLPS level-3 profile (≥ 8 characters, 3 of 4 character classes,
90-day change, no reuse of the last 5). The ASVS checks (long passwords allowed, no
truncation, a bundled list of common passwords, context words) are always on. The "asvs"
profile drops composition and rotation, which ASVS 5.0 forbids; MLPS wins for government
systems, hence the default.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dixian.web.settings import WebSettings

_HASHER = PasswordHasher(type=Type.ID)
# Verified against for unknown users so that "no such user" costs the same time as a wrong
# password (AUTH-03); the template's authenticate() does the same.
_DUMMY_HASH = _HASHER.hash("dixian-dummy-password-for-timing")


@dataclass(frozen=True)
class PasswordPolicy:
    """What a new password must satisfy."""

    min_length: int = 8
    max_length: int = 128
    min_classes: int = 3
    max_age_days: int = 90
    history: int = 5
    context_words: tuple[str, ...] = field(default=())

    @classmethod
    def from_settings(
        cls, settings: WebSettings, *, context_words: tuple[str, ...] = ()
    ) -> PasswordPolicy:
        """The policy of the configured profile."""
        if settings.password_profile == "asvs":  # noqa: S105
            return cls(
                min_length=max(settings.password_min_length, 12),
                max_length=settings.password_max_length,
                min_classes=0,
                max_age_days=0,
                history=settings.password_history,
                context_words=context_words,
            )
        return cls(
            min_length=settings.password_min_length,
            max_length=settings.password_max_length,
            min_classes=settings.password_min_classes,
            max_age_days=settings.password_max_age_days,
            history=settings.password_history,
            context_words=context_words,
        )

    def is_expired(self, changed_at: datetime | None, *, now: datetime) -> bool:
        """Whether a password set at `changed_at` must be changed at the next sign-in."""
        if self.max_age_days <= 0:
            return False
        if changed_at is None:
            return True
        return now - changed_at > timedelta(days=self.max_age_days)


def _character_classes(password: str) -> int:
    lower = any(ch.islower() for ch in password)
    upper = any(ch.isupper() for ch in password)
    digit = any(ch.isdigit() for ch in password)
    other = any(not ch.isalnum() for ch in password)
    return sum((lower, upper, digit, other))


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("dixian.web").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def password_problems(
    password: str,
    *,
    policy: PasswordPolicy,
    username: str = "",
    previous_hashes: tuple[str, ...] = (),
) -> list[str]:
    """Every rule a candidate password breaks, as message keys for the i18n catalogs.

    Args:
        password: the candidate.
        policy: the policy to check against.
        username: the account's user name (the password may not contain it).
        previous_hashes: the hashes of the current and recent passwords, newest first.

    Returns:
        Message keys such as `password.too_short`; empty when the password is acceptable.
    """
    problems: list[str] = []
    normalised = unicodedata.normalize("NFKC", password)
    folded = normalised.casefold()
    if len(normalised) < policy.min_length:
        problems.append("password.too_short")
    if len(normalised) > policy.max_length:
        problems.append("password.too_long")
    if policy.min_classes and _character_classes(normalised) < policy.min_classes:
        problems.append("password.too_few_classes")
    if folded in _common_passwords():
        problems.append("password.common")
    words = [username, *policy.context_words]
    if any(word and len(word) >= 3 and word.casefold() in folded for word in words):
        problems.append("password.contains_context")
    recent = previous_hashes[: policy.history] if policy.history else ()
    if any(verify_password(old, password)[0] for old in recent):
        problems.append("password.reused")
    return problems


def hash_password(password: str) -> str:
    """An Argon2id hash of the NFKC-normalised password."""
    return _HASHER.hash(unicodedata.normalize("NFKC", password))


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Check a password against its stored hash.

    Args:
        stored_hash: the stored hash; None for an unknown user (a dummy hash is verified
            instead so both cases take the same time).
        password: the password typed.

    Returns:
        (matches, new_hash): new_hash is set when the hash should be upgraded to the current
        Argon2id parameters.
    """
    candidate = unicodedata.normalize("NFKC", password)
    target = stored_hash if stored_hash else _DUMMY_HASH
    try:
        _HASHER.verify(target, candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    new_hash = _HASHER.hash(candidate) if _HASHER.check_needs_rehash(target) else None
    return True, new_hash
