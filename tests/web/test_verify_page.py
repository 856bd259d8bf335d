"""The verification form: who may use it, form errors, and the answer before a panel exists."""

from __future__ import annotations

import pytest

from dixian.errors import UserError
from dixian.web.verification import declaration_from_form

from .conftest import WebHarness, csrf_from


def test_form_fields_become_a_declaration() -> None:
    declaration = declaration_from_form(
        {"members": "52279919800101001X 张三 户主\n522799201001010023 李四 配偶",
         "wages": "12000", "vehicles": "1", "period": "2026-10", "programs": "dibao, tekun"}
    )  # fmt: skip
    assert [m.name for m in declaration.members] == ["张三", "李四"]
    assert declaration.income.wages == 12000 and declaration.assets.vehicles == 1
    assert declaration.programs == ["dibao", "tekun"]


@pytest.mark.parametrize(
    "form",
    [{"members": ""}, {"members": "123 x"}, {"members": "52279919800101001X", "wages": "-5"},
     {"members": "52279919800101001X", "period": "2026-13"}],
)  # fmt: skip
def test_bad_forms_are_user_errors(form: dict[str, str]) -> None:
    with pytest.raises(UserError, match="application form"):
        declaration_from_form(form)


def test_without_a_panel_the_page_says_what_to_run(harness: WebHarness) -> None:
    client = harness.login("township")
    page = client.get("/verify")
    assert page.status_code == 200 and 'id="verify-form"' in page.text
    response = client.post(
        "/verify",
        data={"csrf_token": csrf_from(page.text), "members": "52279919800101001X 张三 户主"},
    )
    assert response.status_code == 400
    assert "household_period" in response.text
    # A page read never creates the warehouse (it is opened read-only).
    assert not harness.app.state.workspace.warehouse_path.exists()


def test_only_verifiers_may_verify(harness: WebHarness) -> None:
    for username in ("village_a", "leader", "helper", "auditor"):
        assert harness.login(username).get("/verify").status_code == 403
