"""Web settings: one pydantic settings object read from `DIXIAN_WEB_*` environment variables.

Obtain it through the cached `get_settings()`, never at import time, so tests and the CLI can
build an app with other values (`create_app(workspace, settings=...)`). Numbers that the
standard does not fix (5 failures, 300 s lock, 600 s idle, 90-day change) are common
assessment practice, so every one of them is a setting (security checklist AUTH-02..04).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "demo", "production"]


class WebSettings(BaseSettings):
    """Everything the web application can be configured with."""

    model_config = SettingsConfigDict(env_prefix="DIXIAN_WEB_", extra="forbid", frozen=True)

    env: Environment = "development"
    # AUTH-06: production refuses to start without HTTPS; cookies are then always Secure.
    force_https: bool = False
    cookie_secure: bool = True
    # AUTH-04: server-side sessions.
    session_idle_seconds: int = Field(default=600, ge=60)
    session_absolute_seconds: int = Field(default=8 * 3600, ge=300)
    # AUTH-03: lock-out after N consecutive failures for T seconds, plus a per-IP throttle.
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_seconds: int = Field(default=300, ge=1)
    login_attempts_per_ip_per_minute: int = Field(default=30, ge=1)
    # AUTH-02: password policy, default profile from MLPS level 3.
    password_profile: Literal["mlps", "asvs"] = "mlps"  # noqa: S105
    password_min_length: int = Field(default=8, ge=8)
    password_min_classes: int = Field(default=3, ge=1, le=4)
    password_max_age_days: int = Field(default=90, ge=0)
    password_history: int = Field(default=5, ge=0)
    password_max_length: int = Field(default=128, ge=64)
    # AUTH-05: TOTP for every user; None means "on unless demo".
    totp_required: bool | None = None
    totp_issuer: str = "dixian 底线"
    # WEB-06: the public self-report form and exports are rate limited per client.
    self_reports_per_ip_per_hour: int = Field(default=5, ge=1)
    exports_per_user_per_hour: int = Field(default=10, ge=1)
    api_page_size_max: int = Field(default=200, ge=10)
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    # Behind a reverse proxy, take the client address from X-Forwarded-For (ASVS 4.1.3).
    trust_proxy_headers: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    @model_validator(mode="after")
    def _production_is_hardened(self) -> WebSettings:
        if self.env == "production":
            problems = []
            if not self.force_https:
                problems.append("DIXIAN_WEB_FORCE_HTTPS must be true")
            if not self.cookie_secure:
                problems.append("DIXIAN_WEB_COOKIE_SECURE must be true")
            if self.totp_required is False:
                problems.append("DIXIAN_WEB_TOTP_REQUIRED cannot be false")
            if problems:
                raise ValueError("production settings refused: " + "; ".join(problems))
        return self

    @property
    def mfa_required(self) -> bool:
        """Whether every user needs a second factor (on by default outside demo mode)."""
        if self.totp_required is not None:
            return self.totp_required
        return self.env != "demo"

    @property
    def api_docs_enabled(self) -> bool:
        """OpenAPI and its UI are served outside production only (WEB-10)."""
        return self.env != "production"

    @property
    def session_cookie_name(self) -> str:
        """`__Host-` needs Secure, so the prefix is used only with Secure cookies (WEB-03)."""
        return "__Host-sid" if self.cookie_secure else "dixian-sid"


@lru_cache(maxsize=1)
def get_settings() -> WebSettings:
    """The settings from the environment, read once per process."""
    return WebSettings()
