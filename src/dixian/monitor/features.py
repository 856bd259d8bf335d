"""Model features and labels from the household-period panel, with a strict time window.

Features for period P are computed by one group-by over the panel rows whose period is at or
before P (`_history_until`), so nothing after P can reach them; the no-leakage test perturbs
every later row and checks the features are unchanged. Labels look forward over (P, P + h].
Both are Ibis expressions, so they run on DuckDB and Spark alike.

Features are data (`FeatureSpec`): a source panel column, an aggregation over a trailing
window, the cause group it belongs to (for attribution) and the direction of its effect on
risk when that is known (a LightGBM monotone constraint).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from dixian.errors import UserError

Aggregation = Literal["last", "sum", "mean", "max", "change", "months_since", "ratio"]

_PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# A household with no recorded event gets this many months "since" it: far beyond any window,
# and a number (not null) so that monotone constraints see "long ago" as the safe end.
NEVER_MONTHS = 999


@dataclass(frozen=True)
class FeatureSpec:
    """One model feature.

    Attributes:
        name: the feature's column name in the model.
        source: the panel column it is computed from (for `ratio`: the numerator feature).
        aggregation: `last` (value at P), `sum`/`mean`/`max` over the trailing window,
            `change` (relative change of the value at P against P − window), `months_since`
            (months since the source was last > 0, at or before P), `ratio` (source / denominator,
            two other features).
        cause: the cause code (data standard code list `cause`) its contribution counts to.
        monotone: +1 if a larger value can only raise risk, −1 if it can only lower it, 0 unknown.
        window: trailing window in months for sum/mean/max/change.
        denominator: for `ratio`, the denominator feature.
        label_zh: a short Chinese label for model cards and reasons.
    """

    name: str
    source: str
    aggregation: Aggregation
    cause: str
    monotone: int = 0
    window: int = 12
    denominator: str | None = None
    label_zh: str = ""


def _spec(
    name: str,
    source: str,
    aggregation: Aggregation,
    cause: str,
    monotone: int,
    label_zh: str,
    **extra: Any,
) -> FeatureSpec:
    return FeatureSpec(name, source, aggregation, cause, monotone, label_zh=label_zh, **extra)


# The default features over the monthly panel `household_period` (columns declared in
# `dixian.features.panel_schema`). Most panel values are already rolling 12-month figures, so
# they are taken as of the period; changes and recent means look back through the panel.
DEFAULT_FEATURES: tuple[FeatureSpec, ...] = (
    _spec("income_pc", "income_net_pc", "last", "other", -1, "人均纯收入"),
    _spec("income_change_yoy", "income_change_yoy", "last", "other", -1, "人均纯收入同比变化"),
    _spec(
        "income_pc_change_3m",
        "income_net_pc",
        "change",
        "other",
        0,
        "人均纯收入三个月变化",
        window=3,
    ),
    _spec("income_transfers_pc", "income_transfers_pc", "last", "other", 0, "人均转移净收入"),
    _spec("household_income", "income_net_total", "last", "other", 0, "家庭纯收入"),
    _spec(
        "wage_pc_change",
        "income_wages_pc",
        "change",
        "unstable_employment",
        -1,
        "人均工资性收入同比变化",
    ),
    _spec("job_loss", "job_loss_12m", "last", "unstable_employment", 1, "近12个月失业"),
    _spec("job_loss_wages", "job_loss_wages_12m", "last", "unstable_employment", 1, "失业损失工资"),
    _spec(
        "operating_pc_change",
        "income_operating_pc",
        "change",
        "failed_project",
        -1,
        "人均经营净收入同比变化",
    ),
    # The panel estimates operating income from land, labour and capital, so a failed project
    # shows in the project loan the household cannot pay back (扶贫小额信贷逾期).
    _spec(
        "microcredit_overdue",
        "microcredit_overdue_12m",
        "last",
        "failed_project",
        1,
        "近12个月扶贫小额信贷逾期",
    ),
    _spec(
        "microcredit_overdue_principal",
        "microcredit_overdue_principal",
        "last",
        "failed_project",
        1,
        "逾期贷款未还本金",
    ),
    _spec("medical_oop_12m", "medical_oop_12m", "last", "illness", 1, "医疗自付"),
    _spec(
        "medical_oop_share",
        "medical_oop_12m",
        "ratio",
        "illness",
        1,
        "医疗自付占家庭纯收入",
        denominator="household_income",
    ),
    _spec(
        "outpatient_oop_3m",
        "medical_oop_outpatient_month",
        "mean",
        "illness",
        1,
        "近三个月月均门诊自付",
        window=3,
    ),
    _spec("serious_illness_members", "serious_illness_count", "last", "illness", 1, "大病人数"),
    _spec("chronic_illness_members", "chronic_illness_count", "last", "illness", 1, "慢性病人数"),
    _spec("disabled_members", "disabled_count", "last", "disability", 1, "残疾人数"),
    _spec(
        "severe_disabled_members", "severe_disabled_count", "last", "disability", 1, "重度残疾人数"
    ),
    _spec(
        "new_disabled_members",
        "disability_onset_12m",
        "last",
        "disability",
        1,
        "近12个月新增残疾人数",
    ),
    _spec(
        "schooling_cost_12m",
        "schooling_cost_noncompulsory_12m",
        "last",
        "schooling",
        1,
        "非义务教育支出",
    ),
    _spec(
        "schooling_cost_entering",
        "schooling_cost_entering",
        "last",
        "schooling",
        1,
        "新入学非义务教育支出",
    ),
    _spec(
        "schooling_share",
        "schooling_cost_12m",
        "ratio",
        "schooling",
        1,
        "非义务教育支出占家庭纯收入",
        denominator="household_income",
    ),
    _spec("students_high_school", "students_high_school", "last", "schooling", 1, "高中中职学生数"),
    _spec("students_tertiary", "students_tertiary", "last", "schooling", 1, "大学生数"),
    _spec("disaster_loss_12m", "disaster_loss_12m", "last", "disaster", 1, "灾害损失"),
    _spec("disaster_affected", "disaster_affected_12m", "last", "disaster", 1, "近12个月受灾"),
    _spec("labourer_shock", "labourer_shock_12m", "last", "accident", 1, "主要劳动力变故"),
    _spec("injury_oop_12m", "medical_oop_injury_12m", "last", "accident", 1, "外伤住院自付"),
    _spec("months_since_shock", "months_since_last_shock", "last", "other", -1, "距最近变故月数"),
    _spec(
        "labour_members", "labour_capacity_count", "last", "lack_of_labour", -1, "有劳动能力人数"
    ),
    _spec("dependants", "dependant_count", "last", "lack_of_labour", 1, "被抚养人数"),
    _spec("members", "member_count", "last", "lack_of_labour", 0, "家庭人口数"),
    _spec("elderly_members", "members_60_plus", "last", "lack_of_labour", 0, "60岁及以上人数"),
    _spec(
        "financial_assets_pc", "financial_assets_pc", "last", "lack_of_capital", -1, "人均金融资产"
    ),
    _spec("house_unsafe", "house_unsafe", "last", "unsafe_housing", 1, "住房不安全"),
    _spec("water_unsafe", "water_unsafe", "last", "unsafe_water", 1, "饮水不安全"),
    _spec("left_poverty", "is_left_poverty", "last", "other", 0, "脱贫户"),
    _spec("times_monitored", "times_monitored", "last", "other", 0, "纳入监测次数"),
)


def parse_period(period: str) -> int:
    """The month index (year × 12 + month − 1) of a `YYYY-MM` period.

    Raises:
        UserError: the period is not of the form YYYY-MM.
    """
    match = _PERIOD_RE.match(period)
    if not match:
        raise UserError(f"period '{period}': expected YYYY-MM, e.g. 2025-12")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def format_period(index: int) -> str:
    """The `YYYY-MM` period of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def shift_period(period: str, months: int) -> str:
    """The period `months` after (negative: before) `period`."""
    return format_period(parse_period(period) + months)


def period_index(table: ir.Table) -> ir.IntegerValue:
    year = table.period.substr(0, 4).cast("int64")
    month = table.period.substr(5, 2).cast("int64")
    return year * 12 + month - 1


def _history_until(panel: ir.Table, index: int) -> ir.Table:
    # The leakage guard: everything below sees only rows at or before the period.
    indexed = panel.mutate(_pidx=period_index(panel))
    return indexed.filter(indexed._pidx <= index)


def required_columns(features: Iterable[FeatureSpec]) -> list[str]:
    """Panel columns the features read (ratio features read other features instead)."""
    specs = list(features)
    names = {spec.name for spec in specs}
    columns = {spec.source for spec in specs if spec.aggregation != "ratio"}
    for spec in specs:
        if spec.aggregation == "ratio":
            missing = {spec.source, spec.denominator or ""} - names
            if missing:
                raise UserError(
                    f"feature '{spec.name}': ratio of unknown feature(s) {sorted(missing)}"
                )
    return sorted(columns)


def check_panel(panel: ir.Table, features: Sequence[FeatureSpec], *, name: str) -> None:
    """Raise a UserError naming every panel column the features need but the panel lacks."""
    missing = sorted(set(required_columns(features)) - set(panel.columns))
    base_missing = sorted({"household_id", "period"} - set(panel.columns))
    if base_missing or missing:
        raise UserError(
            f"{name}: missing column(s) {base_missing + missing}; the panel must have "
            "household_id, period (YYYY-MM) and the features' source columns"
        )


def _aggregate(spec: FeatureSpec, table: ir.Table, index: int) -> dict[str, ir.Value]:
    column = table[spec.source]
    at_period = table._pidx == index
    in_window = table._pidx > index - spec.window
    if spec.aggregation == "last":
        return {spec.name: column.cast("float64").max(where=at_period)}
    if spec.aggregation == "sum":
        return {spec.name: column.cast("float64").sum(where=in_window)}
    if spec.aggregation == "mean":
        return {spec.name: column.cast("float64").mean(where=in_window)}
    if spec.aggregation == "max":
        return {spec.name: column.cast("float64").max(where=in_window)}
    if spec.aggregation == "change":
        before = table._pidx == index - spec.window
        return {
            f"_{spec.name}_now": column.cast("float64").max(where=at_period),
            f"_{spec.name}_before": column.cast("float64").max(where=before),
        }
    if spec.aggregation == "months_since":
        return {f"_{spec.name}_last": table._pidx.max(where=column.cast("float64") > 0)}
    raise UserError(f"feature '{spec.name}': unknown aggregation '{spec.aggregation}'")


def _finish(spec: FeatureSpec, table: ir.Table, index: int) -> ir.Value:
    if spec.aggregation == "change":
        now = table[f"_{spec.name}_now"]
        before = table[f"_{spec.name}_before"]
        # Relative change; null when there is no base (no row 12 months ago, or base 0).
        return ibis.ifelse(before.abs() > 0, (now - before) / before.abs(), ibis.null("float64"))
    if spec.aggregation == "months_since":
        last = table[f"_{spec.name}_last"]
        return last.isnull().ifelse(NEVER_MONTHS, index - last).cast("float64")
    if spec.aggregation == "ratio":
        numerator = table[spec.source]
        denominator = table[spec.denominator or ""]
        # Income at or below zero makes any spending share "total": cap the ratio so that a
        # near-zero denominator cannot produce an unbounded value.
        share = ibis.ifelse(
            denominator > 0, (numerator / denominator).clip(upper=10.0), ibis.literal(10.0)
        )
        return ibis.ifelse(numerator > 0, share, numerator * 0.0).cast("float64")
    return table[spec.name]


def build_features(
    panel: ir.Table,
    *,
    period: str,
    features: Sequence[FeatureSpec] = DEFAULT_FEATURES,
    keep: Sequence[str] = ("region_code", "registry_status"),
) -> ir.Table:
    """One row per household present in `period`, with the model features as of that period.

    Only panel rows with period ≤ `period` are read.

    Args:
        panel: the household-period panel (household_id, period 'YYYY-MM', source columns).
        period: the as-of period.
        features: the feature specifications.
        keep: panel columns carried over as of the period (e.g. region_code).

    Returns:
        An Ibis table: household_id, period, the `keep` columns, one column per feature.
    """
    index = parse_period(period)
    history = _history_until(panel, index)
    # Values as of P come from the rows at P alone, and the trailing windows read only the
    # months they need: one group-by with a filtered aggregate per feature over every month of
    # history was most of the scoring time at a million households.
    now = history.filter(history._pidx == index)
    carried = [column for column in keep if column in history.columns]
    current: dict[str, ir.Value] = {column: now[column].max() for column in carried}
    windowed: dict[str, ir.Value] = {}
    months: set[int] | None = set()
    direct = [spec for spec in features if spec.aggregation != "ratio"]
    for spec in direct:
        if spec.aggregation in ("last", "change"):
            name = spec.name if spec.aggregation == "last" else f"_{spec.name}_now"
            current[name] = now[spec.source].cast("float64").max()
        if spec.aggregation == "last":
            continue
        aggregates = _aggregate(spec, history, index)
        windowed.update({key: value for key, value in aggregates.items() if key not in current})
        if spec.aggregation == "months_since" or months is None:
            months = None
        elif spec.aggregation == "change":
            months.add(index - spec.window)
        else:
            months.update(range(index - spec.window + 1, index + 1))
    current = current or {"_present": now._pidx.max()}
    grouped = now.group_by("household_id").aggregate(**current)
    if windowed:
        window = history if months is None else history.filter(history._pidx.isin(sorted(months)))
        past = window.group_by("household_id").aggregate(**windowed)
        grouped = grouped.left_join(past, "household_id").select(
            grouped, *[past[name] for name in windowed]
        )
    grouped = grouped.mutate(
        **{
            spec.name: _finish(spec, grouped, index)
            for spec in direct
            if spec.aggregation in ("change", "months_since")
        }
    )
    ratios = [spec for spec in features if spec.aggregation == "ratio"]
    if ratios:
        grouped = grouped.mutate(**{spec.name: _finish(spec, grouped, index) for spec in ratios})
    grouped = grouped.mutate(period=ibis.literal(period))
    return grouped.select("household_id", "period", *carried, *[spec.name for spec in features])


def below_line_target(lines: Mapping[int, float]) -> Callable[[ir.Table], ir.BooleanValue]:
    """The default target: the household meets the monitoring inclusion test that month.

    Per-capita net income after rigid spending (out-of-pocket medical and schooling costs, the
    expenditure-type test) is below the monitoring line of the period's year.

    Args:
        lines: year → monitoring line in yuan per person per year (from the policy parameters).
    """
    if not lines:
        raise UserError("no monitoring lines given (year → yuan per person per year)")

    def target(table: ir.Table) -> ir.BooleanValue:
        year = table.period.substr(0, 4).cast("int64")
        line = ibis.cases(
            *[(year == y, float(v)) for y, v in sorted(lines.items())],
            else_=float(lines[max(lines)]),
        )
        spending = table.medical_oop_12m.fill_null(0) + table.schooling_cost_12m.fill_null(0)
        net = (table.income_net_total - spending) / table.member_count
        return (table.member_count > 0) & net.notnull() & (net < line)

    return target


def panel_periods(panel: ir.Table) -> list[str]:
    """The distinct periods of a panel, sorted."""
    values = panel.select("period").distinct().to_pyarrow().column("period").to_pylist()
    return sorted(str(value) for value in values)


def labelled_periods(periods: Sequence[str], *, horizon: int = 12, step: int = 1) -> list[str]:
    """Periods whose full forward horizon lies inside the panel, every `step` months back from
    the latest one."""
    if not periods:
        return []
    last = max(parse_period(period) for period in periods)
    present = {parse_period(period) for period in periods}
    latest = last - horizon
    return [
        format_period(index) for index in range(latest, min(present) - 1, -step) if index in present
    ][::-1]


def feature_monotone(features: Sequence[FeatureSpec]) -> dict[str, int]:
    """Feature name → monotone direction, for the risk model."""
    return {spec.name: spec.monotone for spec in features}


def feature_causes(features: Sequence[FeatureSpec]) -> dict[str, str]:
    """Feature name → cause code, for attribution."""
    return {spec.name: spec.cause for spec in features}
