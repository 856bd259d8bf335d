"""Code lists a case uses, taken from the data standard (`dixian.standards`)."""

from __future__ import annotations

from functools import cache

from dixian.standards import load_catalog


@cache
def cause_codes() -> frozenset[str]:
    """Codes of the `cause` code list (致贫返贫风险类型)."""
    return frozenset(load_catalog().code_list("cause").code_values())


@cache
def measure_codes() -> frozenset[str]:
    """Codes of the `measure` code list (帮扶措施)."""
    return frozenset(load_catalog().code_list("measure").code_values())
