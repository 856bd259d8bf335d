"""Time-based one-time passwords (RFC 6238), each code usable once (AUTH-05).

pyotp computes the codes; this module adds what RFC 6238 §5.2 asks of a verifier: remember the
last time step accepted for the account and refuse that step and any earlier one, so a code
seen over someone's shoulder cannot be replayed within its 30-second window.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30
# One step either side absorbs clock drift between phone and server (RFC 6238 §6).
_DRIFT_STEPS = 1


def new_totp_secret() -> str:
    """A fresh base32 secret of 160 bits from the OS CSPRNG (pyotp uses `secrets`)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app enrols from."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def current_code(secret: str, *, now: datetime) -> str:
    """The code an authenticator shows at `now` (used by tests and the e2e harness)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).at(now)


def accept_totp(secret: str, code: str, *, last_step: int | None, now: datetime) -> int | None:
    """Check a code and return its time step if it is valid and not used before.

    Args:
        secret: the account's base32 secret.
        code: the 6 digits typed.
        last_step: the step of the last code accepted for this account, if any.
        now: the current time (timezone-aware).

    Returns:
        The time step to store as the new `last_step`, or None when the code is wrong,
        outside the drift window, or a replay of an already used step.
    """
    cleaned = code.strip().replace(" ", "")
    if not (cleaned.isdigit() and len(cleaned) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None
