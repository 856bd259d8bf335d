"""Labels for codes shown in pages: states, roles, causes, measures, in the UI language."""

from __future__ import annotations

from functools import lru_cache

from dixian.cases.enums import CaseState, Channel, MeasureStatus, MonitoringObjectType
from dixian.standards import load_catalog


@lru_cache(maxsize=8)
def code_labels(code_list: str, locale: str) -> dict[str, str]:
    """Code → label of a data-standard code list (`cause`, `measure`, ...)."""
    codes = load_catalog().code_list(code_list).codes
    return {c.code: (c.zh if locale == "zh_CN" else c.en) for c in codes}


def enum_label(
    value: CaseState | Channel | MonitoringObjectType | MeasureStatus, locale: str
) -> str:
    """The label of a case enumeration value: Chinese from the enum, else the English key."""
    if locale == "zh_CN" and hasattr(value, "zh"):
        return str(value.zh)
    return str(value.value).replace("_", " ")


MEASURE_STATUS_ZH = {
    MeasureStatus.PLANNED: "计划中",
    MeasureStatus.IN_PROGRESS: "实施中",
    MeasureStatus.DELIVERED: "已落实",
    MeasureStatus.CANCELLED: "已取消",
}


def measure_status_label(status: MeasureStatus, locale: str) -> str:
    """Label of a measure's status."""
    return MEASURE_STATUS_ZH[status] if locale == "zh_CN" else status.value.replace("_", " ")
