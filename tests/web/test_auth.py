"""Sign-in, lock-out, TOTP, sessions, passwords, CSRF, headers (AUTH-01..07, WEB-02..04)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dixian.cases.ledger_models import AuditEntry
from dixian.cases.models import User, WebSession
from dixian.cases.service import get_user
from dixian.web.passwords import PasswordPolicy, hash_password, password_problems, verify_password
from dixian.web.settings import WebSettings
from dixian.web.totp import accept_totp, current_code, new_totp_secret

from .conftest import PASSWORD, WebHarness, csrf_from, sign_in


def _events(harness: WebHarness, code: str) -> int:
    with harness.db.session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.event_code == code)
            )
            or 0
        )


def test_sign_in_sets_a_hardened_session_cookie(harness: WebHarness) -> None:
    client = harness.client()
    response = sign_in(client, "analyst", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-sid=")
    for flag in ("HttpOnly", "Secure", "Path=/", "SameSite=lax"):
        assert flag in cookie
    assert "Domain" not in cookie
    assert client.get("/dashboard").status_code == 200
    assert _events(harness, "LOGIN_SUCCEEDED") == 1


def test_same_message_for_unknown_user_wrong_password_and_locked(harness: WebHarness) -> None:
    unknown = sign_in(harness.client(), "nobody", PASSWORD)
    wrong = sign_in(harness.client(), "analyst", "Wrong-Password-1")
    assert unknown.status_code == wrong.status_code == 401
    message = "用户名、密码或验证码不正确，或账户已被锁定。"
    assert message in unknown.text and message in wrong.text


def test_five_failures_lock_the_account_until_the_lock_time_passes(harness: WebHarness) -> None:
    for _ in range(5):
        assert sign_in(harness.client(), "analyst", "Wrong-Password-1").status_code == 401
    locked = sign_in(harness.client(), "analyst", PASSWORD)
    assert locked.status_code == 401, "the right password must not open a locked account"
    assert "或账户已被锁定" in locked.text
    assert _events(harness, "ACCOUNT_LOCKED") == 1
    harness.clock.advance(301)
    assert sign_in(harness.client(), "analyst", PASSWORD).status_code == 303
    with harness.db.session() as session:
        user = get_user(session, username="analyst")
        assert user is not None and user.failed_login_count == 0


def test_username_is_matched_after_normalisation(harness: WebHarness) -> None:
    assert sign_in(harness.client(), "ＡＮＡＬＹＳＴ", PASSWORD).status_code == 303


def test_totp_is_required_and_a_code_works_only_once(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: WebHarness = make_harness(env="development")
    assert harness.app.state.settings.mfa_required
    assert sign_in(harness.client(), "analyst", PASSWORD).status_code == 401
    assert sign_in(harness.client(), "analyst", PASSWORD, "000000").status_code in (401,)
    code = harness.totp_code("analyst")
    assert sign_in(harness.client(), "analyst", PASSWORD, code).status_code == 303
    replay = sign_in(harness.client(), "analyst", PASSWORD, code)
    assert replay.status_code == 401, "a TOTP code must not be accepted twice"
    assert _events(harness, "MFA_FAILED") >= 2
    harness.clock.advance(30)
    fresh = harness.totp_code("analyst")
    assert sign_in(harness.client(), "analyst", PASSWORD, fresh).status_code == 303


def test_totp_verifier_refuses_replays_and_old_steps() -> None:
    from datetime import UTC, datetime

    secret = new_totp_secret()
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    code = current_code(secret, now=now)
    step = accept_totp(secret, code, last_step=None, now=now)
    assert step is not None
    assert accept_totp(secret, code, last_step=step, now=now) is None
    assert accept_totp(secret, "12345", last_step=None, now=now) is None
    assert accept_totp(secret, code, last_step=None, now=now + timedelta(minutes=5)) is None


def test_session_idle_timeout_deletes_the_session(harness: WebHarness) -> None:
    client = harness.login("analyst")
    harness.clock.advance(590)
    assert client.get("/dashboard").status_code == 200
    harness.clock.advance(601)
    response = client.get("/dashboard")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401
    with harness.db.session() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_session_absolute_lifetime(harness: WebHarness) -> None:
    client = harness.login("analyst")
    for _ in range(50):  # active every 10 minutes for more than 8 hours
        harness.clock.advance(599)
        if client.get("/api/v1/me").status_code != 200:
            break
    assert client.get("/api/v1/me").status_code == 401


def test_logout_invalidates_the_old_cookie(harness: WebHarness) -> None:
    client = harness.login("analyst")
    page = client.get("/dashboard")
    token = client.cookies.get("__Host-sid")
    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    other = harness.client()
    other.cookies.set("__Host-sid", token or "", domain="testserver")
    assert other.get("/api/v1/me").status_code == 401
    assert _events(harness, "LOGOUT") == 1


def test_disabling_a_user_ends_their_live_session(harness: WebHarness) -> None:
    victim = harness.login("village_a")
    assert victim.get("/api/v1/me").status_code == 200
    admin = harness.login("sysadmin")
    page = admin.get("/admin/users")
    response = admin.post(
        "/admin/users/village_a/disable",
        data={"csrf_token": csrf_from(page.text), "disabled": "true"},
    )
    assert response.status_code == 303
    assert victim.get("/api/v1/me").status_code == 401
    assert sign_in(harness.client(), "village_a", PASSWORD).status_code == 401


def test_csrf_token_is_required_on_state_changes(harness: WebHarness) -> None:
    client = harness.login("analyst")
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    page = client.get("/dashboard")
    foreign = client.post(
        "/logout",
        data={"csrf_token": csrf_from(page.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    htmx = client.post("/logout", headers={"X-CSRF-Token": csrf_from(page.text)})
    assert htmx.status_code == 303


def test_sign_in_form_needs_its_csrf_cookie(harness: WebHarness) -> None:
    client = harness.client()
    response = client.post(
        "/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": "x"}
    )
    assert response.status_code == 403


def test_get_to_a_mutating_route_is_refused(harness: WebHarness) -> None:
    client = harness.login("analyst")
    assert client.get("/logout").status_code == 405


@pytest.mark.parametrize(
    "path", ["/login", "/dashboard", "/api/v1/me", "/no-such-page", "/static/app.css"]
)
def test_security_headers_on_every_response(harness: WebHarness, path: str) -> None:
    client = harness.login("analyst")
    response = client.get(path)
    headers = response.headers
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-request-id"]
    if not path.startswith("/static/"):
        assert headers["cache-control"] == "no-store"


def test_authenticated_pages_are_not_cached(harness: WebHarness, seeded) -> None:  # type: ignore[no-untyped-def]
    client = harness.login("analyst")
    for path in ("/dashboard", f"/cases/{seeded.case_a}", "/households/H-A-1", "/api/v1/cases"):
        assert client.get(path).headers["cache-control"] == "no-store"


def test_expired_password_must_be_changed_first(harness: WebHarness) -> None:
    with harness.db.session() as session:
        user = session.scalar(select(User).where(User.username == "analyst"))
        assert user is not None
        user.password_changed_at = harness.clock.now - timedelta(days=91)
    client = harness.client()
    response = sign_in(client, "analyst", PASSWORD)
    assert response.headers["location"] == "/account/password"
    page = client.get("/account/password")
    reuse = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page.text),
            "current_password": PASSWORD,
            "new_password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert reuse.status_code == 422 and "不得使用最近用过的密码" in reuse.text
    new = "Another!Pass-2026"
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page.text),
            "current_password": PASSWORD,
            "new_password": new,
            "confirm_password": new,
        },
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    assert sign_in(harness.client(), "analyst", new).status_code == 303


def test_expired_password_blocks_pages_until_changed(harness: WebHarness) -> None:
    with harness.db.session() as session:
        user = session.scalar(select(User).where(User.username == "leader"))
        assert user is not None
        user.password_changed_at = harness.clock.now - timedelta(days=89)
    assert sign_in(harness.client(), "leader", PASSWORD).headers["location"] == "/dashboard"
    harness.clock.advance(2 * 86400)
    client = harness.client()
    sign_in(client, "leader", PASSWORD)
    assert client.get("/dashboard").headers["location"] == "/account/password"


def test_legacy_hash_parameters_are_upgraded_on_verify() -> None:
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash("Legacy-Pass-1")
    matches, new_hash = verify_password(old, "Legacy-Pass-1")
    assert matches and new_hash is not None and new_hash.startswith("$argon2id$")
    assert verify_password(new_hash, "Legacy-Pass-1") == (True, None)


def test_must_change_password_blocks_other_pages(harness: WebHarness) -> None:
    with harness.db.session() as session:
        user = session.scalar(select(User).where(User.username == "leader"))
        assert user is not None
        user.must_change_password = True
    client = harness.client()
    assert sign_in(client, "leader", PASSWORD).headers["location"] == "/account/password"
    assert client.get("/dashboard").headers["location"] == "/account/password"
    assert client.get("/api/v1/me").status_code == 403


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1!", "password.too_short"),
        ("alllowercase", "password.too_few_classes"),
        ("P@ssw0rd", "password.common"),
        ("Admin@123", "password.common"),
        ("xAnalyst-2026!", "password.contains_context"),
    ],
)
def test_password_policy_refuses(password: str, problem: str) -> None:
    policy = PasswordPolicy.from_settings(WebSettings())
    assert problem in password_problems(password, policy=policy, username="analyst")


def test_password_policy_accepts_good_and_long_passwords() -> None:
    policy = PasswordPolicy.from_settings(WebSettings())
    assert password_problems("Quiet-River-42", policy=policy, username="analyst") == []
    long = "Aa1!" + "x" * 60
    assert password_problems(long, policy=policy) == []
    stored = hash_password(long)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, long)[0]
    assert not verify_password(stored, long[:-1])[0], "no truncation"


def test_history_refuses_the_last_five_passwords() -> None:
    policy = PasswordPolicy.from_settings(WebSettings())
    old = [hash_password(f"Old-Password-{i}!") for i in range(6)]
    assert "password.reused" in password_problems(
        "Old-Password-4!", policy=policy, previous_hashes=tuple(old)
    )
    assert "password.reused" not in password_problems(
        "Old-Password-5!", policy=policy, previous_hashes=tuple(old)
    ), "only the last five count"


def test_production_settings_refuse_plain_http() -> None:
    with pytest.raises(ValueError, match="FORCE_HTTPS"):
        WebSettings(env="production", force_https=False)
    assert WebSettings(env="production", force_https=True).mfa_required
    assert not WebSettings(env="demo").mfa_required


def test_production_hides_the_api_docs(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: WebHarness = make_harness(env="production", force_https=True)
    client = harness.client()
    assert client.get("/api/v1/openapi.json").status_code == 404
    assert client.get("/api/docs").status_code == 404
    dev: WebHarness = make_harness()
    assert dev.client().get("/api/v1/openapi.json").status_code == 200


def test_password_may_not_contain_the_system_or_county_name(harness: WebHarness) -> None:
    from dixian.web.auth import context_words

    words = context_words("示范县", "web test")
    assert "shifanxian" in words and "dixian" in words
    policy = PasswordPolicy.from_settings(WebSettings(), context_words=words)
    for candidate in ("Shifanxian-2026!", "My示范县Pass-1", "Dixian#2027x"):
        assert "password.contains_context" in password_problems(candidate, policy=policy)
    client = harness.login("analyst")
    page = client.get("/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page.text),
            "current_password": PASSWORD,
            "new_password": "Shifanxian-2026!",
            "confirm_password": "Shifanxian-2026!",
        },
    )
    assert response.status_code == 422 and "不得包含用户名、单位名或系统名" in response.text


def test_accounts_unused_for_90_days_are_disabled(harness: WebHarness) -> None:
    from dixian.cases.actor import Actor
    from dixian.web.accounts import disable_stale_accounts

    harness.login("leader")
    later = harness.clock.now + timedelta(days=150)
    with harness.db.session() as session:
        leader = session.scalar(select(User).where(User.username == "leader"))
        assert leader is not None
        leader.last_login_at = later - timedelta(days=10)
    with harness.db.session() as session:
        names = disable_stale_accounts(session, actor=Actor.system(), days=90, now=later)
    assert "leader" not in names and "analyst" in names
    assert sign_in(harness.client(), "analyst", PASSWORD).status_code == 401
