"""Chinese reasons a village cadre can read, rendered from the household's own values.

Each cause has clauses; a clause is rendered only when every value it needs is known for the
household, so a reason never shows a blank or a made-up figure. When no clause of a cause can
be rendered (or the cause has no template, e.g. 缺土地 with no land data in the panel), the
reason names the cause and the household's values of its features that raised the risk most.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dixian.monitor.causes import cause_labels
from dixian.monitor.features import NEVER_MONTHS, FeatureSpec

Values = Mapping[str, float | None]


def _known(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def wan(value: float) -> str:
    """An amount in yuan as 万元 with one decimal ("2.3"), or whole yuan below 10,000."""
    if abs(value) >= 10_000:
        return f"{value / 10_000:.1f} 万元"
    return f"{value:,.0f} 元"


def percent(value: float) -> str:
    """A ratio as a whole percentage ("85%")."""
    return f"{value * 100:.0f}%"


def signed_percent(value: float) -> str:
    """A relative change as "下降 35%" / "增长 12%"."""
    return f"下降 {abs(value) * 100:.0f}%" if value < 0 else f"增长 {value * 100:.0f}%"


@dataclass(frozen=True)
class Clause:
    """A piece of a reason: the values it needs and how to write them."""

    needs: tuple[str, ...]
    render: Callable[[Values], str]
    when: Callable[[Values], bool] = lambda values: True
    # Rendered only when the clause before it was not: a plainer way to say the same thing.
    instead_of_previous: bool = False


def _v(values: Values, name: str) -> float:
    value = values[name]
    assert value is not None
    return float(value)


_TEMPLATES: dict[str, tuple[Clause, ...]] = {
    "illness": (
        Clause(
            ("medical_oop_12m", "medical_oop_share"),
            lambda v: (
                f"医疗自付 {wan(_v(v, 'medical_oop_12m'))}，"
                f"占家庭纯收入 {percent(_v(v, 'medical_oop_share'))}"
            ),
            lambda v: _v(v, "medical_oop_12m") > 0 and _v(v, "medical_oop_share") < 10,
        ),
        Clause(
            ("medical_oop_12m", "medical_oop_share"),
            lambda v: f"医疗自付 {wan(_v(v, 'medical_oop_12m'))}，超过家庭纯收入",
            lambda v: _v(v, "medical_oop_12m") > 0 and _v(v, "medical_oop_share") >= 10,
        ),
        Clause(
            ("serious_illness_members",),
            lambda v: f"{_v(v, 'serious_illness_members'):.0f} 人患大病",
            lambda v: _v(v, "serious_illness_members") > 0,
        ),
        Clause(
            ("chronic_illness_members",),
            lambda v: f"{_v(v, 'chronic_illness_members'):.0f} 人患慢性病",
            lambda v: _v(v, "chronic_illness_members") > 0,
        ),
    ),
    "disability": (
        Clause(
            ("new_disabled_members",),
            lambda v: f"近12个月新增残疾 {_v(v, 'new_disabled_members'):.0f} 人",
            lambda v: _v(v, "new_disabled_members") > 0,
        ),
        Clause(
            ("disabled_members",),
            lambda v: f"家中 {_v(v, 'disabled_members'):.0f} 名残疾人",
            lambda v: _v(v, "disabled_members") > 0,
        ),
        Clause(
            ("severe_disabled_members",),
            lambda v: f"其中重度残疾 {_v(v, 'severe_disabled_members'):.0f} 人",
            lambda v: _v(v, "severe_disabled_members") > 0,
        ),
    ),
    "schooling": (
        Clause(
            ("schooling_cost_12m",),
            lambda v: f"非义务教育支出 {wan(_v(v, 'schooling_cost_12m'))}",
            lambda v: _v(v, "schooling_cost_12m") > 0,
        ),
        Clause(
            ("schooling_share",),
            lambda v: f"占家庭纯收入 {percent(_v(v, 'schooling_share'))}",
            lambda v: 0 < _v(v, "schooling_share") < 10,
        ),
        Clause(
            ("schooling_cost_entering",),
            lambda v: f"其中今年新入学 {wan(_v(v, 'schooling_cost_entering'))}",
            lambda v: _v(v, "schooling_cost_entering") > 0,
        ),
        Clause(
            ("students_high_school",),
            lambda v: f"高中中职学生 {_v(v, 'students_high_school'):.0f} 人",
            lambda v: _v(v, "students_high_school") > 0,
        ),
        Clause(
            ("students_tertiary",),
            lambda v: f"大学生 {_v(v, 'students_tertiary'):.0f} 人",
            lambda v: _v(v, "students_tertiary") > 0,
        ),
    ),
    "disaster": (
        Clause(
            ("disaster_loss_12m",),
            lambda v: f"近12个月受灾损失 {wan(_v(v, 'disaster_loss_12m'))}",
            lambda v: _v(v, "disaster_loss_12m") > 0,
        ),
        Clause(
            ("disaster_affected",),
            lambda v: "近12个月受灾",
            lambda v: _v(v, "disaster_affected") > 0,
        ),
    ),
    "accident": (
        Clause(
            ("injury_oop_12m",),
            lambda v: f"外伤住院自付 {wan(_v(v, 'injury_oop_12m'))}",
            lambda v: _v(v, "injury_oop_12m") > 0,
        ),
        Clause(
            ("labourer_shock",),
            lambda v: "近12个月主要劳动力死亡、重病或致残",
            lambda v: _v(v, "labourer_shock") > 0,
        ),
        Clause(
            ("months_since_shock",),
            lambda v: f"{_v(v, 'months_since_shock'):.0f} 个月前发生变故",
            lambda v: _v(v, "months_since_shock") < NEVER_MONTHS,
        ),
    ),
    "unstable_employment": (
        Clause(
            ("job_loss_wages", "job_loss_months_out"),
            lambda v: (
                f"家庭成员失业 {_v(v, 'job_loss_months_out'):.0f} 个月，"
                f"预计损失工资 {wan(_v(v, 'job_loss_wages'))}"
            ),
            lambda v: _v(v, "job_loss_wages") > 0 and _v(v, "job_loss_months_out") > 0,
        ),
        Clause(
            ("job_loss",),
            lambda v: "近12个月有家庭成员失业",
            lambda v: _v(v, "job_loss") > 0,
            instead_of_previous=True,
        ),
        Clause(
            ("wage_pc_change",),
            lambda v: f"人均工资性收入同比{signed_percent(_v(v, 'wage_pc_change'))}",
            lambda v: _v(v, "wage_pc_change") < 0,
        ),
    ),
    "failed_project": (
        Clause(
            ("microcredit_overdue_principal",),
            lambda v: f"扶贫小额信贷逾期，未还本金 {wan(_v(v, 'microcredit_overdue_principal'))}",
            lambda v: _v(v, "microcredit_overdue_principal") > 0,
        ),
        Clause(
            ("microcredit_overdue",),
            lambda v: "近12个月扶贫小额信贷逾期",
            lambda v: _v(v, "microcredit_overdue") > 0,
            instead_of_previous=True,
        ),
        Clause(
            ("operating_pc_change",),
            lambda v: f"人均经营净收入同比{signed_percent(_v(v, 'operating_pc_change'))}",
            lambda v: _v(v, "operating_pc_change") < 0,
        ),
    ),
    "lack_of_labour": (
        Clause(
            ("members", "labour_members"),
            lambda v: (
                f"{_v(v, 'members'):.0f} 口人中有劳动能力的仅 {_v(v, 'labour_members'):.0f} 人"
            ),
        ),
        Clause(
            ("dependants",),
            lambda v: f"被抚养人口 {_v(v, 'dependants'):.0f} 人",
            lambda v: _v(v, "dependants") > 0,
        ),
    ),
    "lack_of_capital": (
        Clause(
            ("financial_assets_pc",),
            lambda v: f"人均金融资产仅 {wan(_v(v, 'financial_assets_pc'))}",
        ),
    ),
    "unsafe_housing": (
        Clause(
            ("house_unsafe",),
            lambda v: "住房鉴定为C级或D级危房",
            lambda v: _v(v, "house_unsafe") > 0,
        ),
    ),
    "unsafe_water": (
        Clause(("water_unsafe",), lambda v: "饮水安全未保障", lambda v: _v(v, "water_unsafe") > 0),
    ),
    "other": (
        Clause(
            ("income_pc",),
            lambda v: f"人均纯收入 {_v(v, 'income_pc'):,.0f} 元",
        ),
        Clause(
            ("income_change_yoy",),
            lambda v: f"同比{signed_percent(_v(v, 'income_change_yoy'))}",
            lambda v: _v(v, "income_change_yoy") < 0,
        ),
    ),
}


def _format_value(value: float) -> str:
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def render_reason(
    cause: str,
    values: Values,
    *,
    features: Sequence[FeatureSpec],
    top: Sequence[str] = (),
) -> str:
    """The Chinese reason for one cause of one household.

    Args:
        cause: the cause code.
        values: the household's feature values by name (None or NaN when unknown).
        features: the feature specifications (for Chinese labels in the generic form).
        top: the cause's features that raised this household's risk most, for the generic form.

    Returns:
        E.g. "因病：医疗自付 2.3 万元，占家庭纯收入 85%；1 人患大病".
    """
    label = cause_labels().get(cause, cause)
    parts = []
    previous_rendered = False
    for clause in _TEMPLATES.get(cause, ()):
        rendered = (
            not (clause.instead_of_previous and previous_rendered)
            and all(_known(values.get(name)) for name in clause.needs)
            and clause.when(values)
        )
        if rendered:
            parts.append(clause.render(values))
        previous_rendered = rendered
    if not parts:
        labels = {spec.name: spec.label_zh or spec.name for spec in features}
        for name in top or [spec.name for spec in features if spec.cause == cause][:2]:
            value = values.get(name)
            if _known(value):
                assert value is not None
                parts.append(f"{labels.get(name, name)} {_format_value(float(value))}")
    if not parts:
        return f"{label}：模型综合多项指标判断"
    return f"{label}：" + "；".join(parts)


def causes_with_templates() -> list[str]:
    """Cause codes that have specific templates (the others use the generic form)."""
    return sorted(_TEMPLATES)
