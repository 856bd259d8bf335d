"""The columns of the household-period panel (一户一档), table `household_period`.

One row per household and period. The panel builder (`dixian features`) fills exactly these
columns; verification (`dixian.verify`), the policy language (`dixian.policy`) and monitoring
read only these. Amounts are yuan; "12m" values are rolling sums over the 12 months ending with
the period (the income period official identification uses); per-capita values divide by
`member_count`.

Conventions the builder must keep:
- `income_transfers_*` excludes social-assistance payments (低保, 特困) so that a program's income
  test does not count the program's own benefit; those payments are in `assistance_paid_12m`.
- A value the departments say nothing about is NULL, not 0, so that rules can tell "no data"
  (needs review) from "zero". Counts of records found are 0 when the department covers the
  household and found none.
- `evidence` is a JSON object mapping a column name to the list of `_record_id`s of the staged
  rows behind that value, e.g. `{"vehicle_count": ["b12:...:3"], "income_wages_pc": [...]}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dixian.errors import UserError

if TYPE_CHECKING:
    import ibis.expr.schema as sch
    import ibis.expr.types as ir

PANEL_TABLE = "household_period"
EVIDENCE_COLUMN = "evidence"


class PanelType(StrEnum):
    """Value types of panel columns (Ibis type names)."""

    STRING = "string"
    INT64 = "int64"
    FLOAT64 = "float64"
    BOOLEAN = "boolean"
    DATE = "date"


class PanelGroup(StrEnum):
    """Families of panel columns, in the order of issue 6 part 1."""

    KEY = "key"
    MEMBERS = "members"
    INCOME = "income"
    ASSETS = "assets"
    SPENDING = "spending"
    FLAGS = "flags"
    STATUS = "status"
    CHANGE = "change"
    EVIDENCE = "evidence"


@dataclass(frozen=True)
class PanelColumn:
    """One declared column of `household_period`."""

    name: str
    dtype: PanelType
    unit: str
    label_zh: str
    description: str
    sources: tuple[str, ...]
    group: PanelGroup
    nullable: bool = True


_S, _I, _F, _B, _D = (
    PanelType.STRING,
    PanelType.INT64,
    PanelType.FLOAT64,
    PanelType.BOOLEAN,
    PanelType.DATE,
)
_HR = "household_registration"
_CA = "civil_affairs_assistance"
_PR = "poverty_registry"


def _c(
    name: str,
    dtype: PanelType,
    unit: str,
    label_zh: str,
    description: str,
    sources: tuple[str, ...],
    group: PanelGroup,
    *,
    nullable: bool = True,
) -> PanelColumn:
    return PanelColumn(name, dtype, unit, label_zh, description, sources, group, nullable)


_K, _M, _N, _A, _P, _FL, _ST, _CH = (
    PanelGroup.KEY,
    PanelGroup.MEMBERS,
    PanelGroup.INCOME,
    PanelGroup.ASSETS,
    PanelGroup.SPENDING,
    PanelGroup.FLAGS,
    PanelGroup.STATUS,
    PanelGroup.CHANGE,
)
_INCOME_SOURCES = (
    "employment",
    "public_payroll",
    "pensions",
    "tax_and_provident_fund",
    "business_registration",
    _PR,
)

PANEL_COLUMNS: tuple[PanelColumn, ...] = (
    # keys
    _c("household_id", _S, "", "户编号", "Household id from linkage.", (_HR,), _K, nullable=False),
    _c("period", _S, "YYYY-MM", "统计期", "Month the row describes.", (), _K, nullable=False),
    _c("period_end", _D, "", "统计期末", "Last day of the period.", (), _K, nullable=False),
    _c("region_code", _S, "", "统计用区划代码", "12-digit village code.", (_HR,), _K),
    _c("head_person_id", _S, "", "户主", "person_id of the household head.", (_HR,), _K),
    # members and ages
    _c("member_count", _I, "persons", "家庭人口数", "Living registered members.", (_HR,), _M),
    _c("members_under_16", _I, "persons", "16岁以下人数", "Members aged < 16.", (_HR,), _M),
    _c("members_16_59", _I, "persons", "16至59岁人数", "Working-age members.", (_HR,), _M),
    _c("members_60_plus", _I, "persons", "60岁及以上人数", "Members aged >= 60.", (_HR,), _M),
    _c("head_age", _I, "years", "户主年龄", "Age of the head at period end.", (_HR,), _M),
    _c(
        "single_parent",
        _B,
        "",
        "单亲家庭",
        "The head has no spouse in the household and lives with a son or daughter under 18.",
        (_HR,),
        _M,
    ),
    _c(
        "labour_capacity_count",
        _I,
        "persons",
        "有劳动能力人数",
        "Working-age members, not disabled (grade 1-2), not a student, not seriously ill.",
        (_HR, "disability", "students", "chronic_illness"),
        _M,
    ),
    _c(
        "dependant_count",
        _I,
        "persons",
        "被抚养人数",
        "Members under 16, 60 or over, students, or disabled without labour capacity.",
        (_HR, "disability", "students"),
        _M,
    ),
    _c(
        "farm_labour_count",
        _I,
        "persons",
        "务农劳动力数",
        "Members aged 16-69 neither migrant workers in the 12 months nor on the public payroll.",
        (_HR, "employment", "public_payroll"),
        _M,
    ),
    _c(
        "land_area_mu",
        _F,
        "mu",
        "耕地面积",
        "Farmland from the registry; the village mean of registry households where unknown.",
        (_PR,),
        _M,
    ),
    _c(
        "land_area_imputed",
        _B,
        "",
        "耕地面积为估计值",
        "True when land_area_mu is the village (or county) mean, not the registry's figure.",
        (_PR,),
        _M,
    ),
    # income, rolling 12 months, per capita (NULL when no income department covers it)
    _c("income_wages_pc", _F, "yuan/person/year", "人均工资性收入", "Wages.", _INCOME_SOURCES, _N),
    _c(
        "income_operating_pc",
        _F,
        "yuan/person/year",
        "人均经营净收入",
        "Net farming and business income (estimated; no department reports it).",
        ("business_registration", "tax_and_provident_fund", _PR),
        _N,
    ),
    _c(
        "income_property_pc",
        _F,
        "yuan/person/year",
        "人均财产净收入",
        "Deposit interest and estimated land rent.",
        ("tax_and_provident_fund", "deposits", "real_estate"),
        _N,
    ),
    _c(
        "income_transfers_pc",
        _F,
        "yuan/person/year",
        "人均转移净收入",
        "Pensions, temporary assistance and estimated family support, excl. 低保/特困.",
        ("pensions", _CA),
        _N,
    ),
    _c(
        "income_estimated_pc",
        _F,
        "yuan/person/year",
        "人均测算收入",
        "The part of income_net_pc estimated, not reported: farming, business capital return, "
        "land rent and family support (see docs/features.md).",
        (_PR, "business_registration"),
        _N,
    ),
    _c(
        "income_net_pc",
        _F,
        "yuan/person/year",
        "人均纯收入",
        "Sum of the four sources per capita (excl. 低保/特困 payments).",
        _INCOME_SOURCES,
        _N,
    ),
    _c(
        "income_net_total",
        _F,
        "yuan/year",
        "家庭纯收入",
        "Household net income, 12 months.",
        _INCOME_SOURCES,
        _N,
    ),
    _c(
        "assistance_paid_12m",
        _F,
        "yuan/year",
        "低保特困金12个月",
        "低保 and 特困 payments received, 12 months.",
        (_CA,),
        _N,
    ),
    # assets
    _c(
        "vehicle_count", _I, "count", "车辆数", "Vehicles registered to members.", ("vehicles",), _A
    ),
    _c(
        "vehicle_non_exempt_count",
        _I,
        "count",
        "非豁免车辆数",
        "Vehicles other than motorcycles, tricycles, farm or disability vehicles.",
        ("vehicles",),
        _A,
    ),
    _c("vehicle_value_total", _F, "yuan", "车辆价值", "Assessed vehicle value.", ("vehicles",), _A),
    _c(
        "property_count",
        _I,
        "count",
        "房产数",
        "Properties owned by members.",
        ("real_estate",),
        _A,
    ),
    _c("property_area_total", _F, "m2", "房产面积", "Total floor area.", ("real_estate",), _A),
    _c(
        "property_purchased_12m",
        _I,
        "count",
        "12个月内购房数",
        "Properties bought in the 12 months to period end.",
        ("real_estate",),
        _A,
    ),
    _c(
        "business_count",
        _I,
        "count",
        "登记经营主体数",
        "Active businesses where a member is legal person or shareholder.",
        ("business_registration",),
        _A,
    ),
    _c(
        "business_capital_total",
        _F,
        "yuan",
        "注册资本合计",
        "Registered capital of those businesses.",
        ("business_registration",),
        _A,
    ),
    _c("deposits_total", _F, "yuan", "存款", "Bank deposits at period end.", ("deposits",), _A),
    _c("securities_total", _F, "yuan", "证券", "Securities at market value.", ("deposits",), _A),
    _c(
        "provident_fund_contributions_12m",
        _F,
        "yuan/year",
        "公积金缴存额",
        "Housing provident fund contributions of members, latest year.",
        ("tax_and_provident_fund",),
        _A,
    ),
    _c(
        "financial_assets_pc",
        _F,
        "yuan/person",
        "人均金融资产",
        "(deposits + securities) per member.",
        ("deposits",),
        _A,
    ),
    # rigid spending
    _c(
        "medical_oop_12m",
        _F,
        "yuan/year",
        "医疗自付",
        "Out-of-pocket medical spending, 12 months.",
        ("medical_claims",),
        _P,
    ),
    _c(
        "medical_oop_inpatient_12m",
        _F,
        "yuan/year",
        "住院自付",
        "Inpatient out-of-pocket, 12 months (cumulative).",
        ("medical_claims",),
        _P,
    ),
    _c(
        "medical_oop_injury_12m",
        _F,
        "yuan/year",
        "外伤住院自付",
        "Out-of-pocket of claims with an injury diagnosis (fracture, injury, burn, poisoning), "
        "12 months.",
        ("medical_claims",),
        _P,
    ),
    _c(
        "medical_oop_outpatient_month",
        _F,
        "yuan/month",
        "当月门诊自付",
        "Outpatient (chronic) out-of-pocket in the period's month.",
        ("medical_claims",),
        _P,
    ),
    _c(
        "schooling_cost_12m",
        _F,
        "yuan/year",
        "教育支出",
        "Schooling out-of-pocket, 12 months.",
        ("students",),
        _P,
    ),
    _c(
        "schooling_cost_noncompulsory_12m",
        _F,
        "yuan/year",
        "非义务教育支出",
        "Out-of-pocket for high school, vocational and tertiary students, 12 months.",
        ("students",),
        _P,
    ),
    _c(
        "schooling_cost_entering",
        _F,
        "yuan",
        "新入学非义务教育支出",
        "Net costs of the school year of students who entered high school, college or "
        "university this school year (a higher stage than their record of the year before).",
        ("students",),
        _P,
    ),
    # flags
    _c("is_dibao", _B, "", "低保户", "Household receives 低保 in the period.", (_CA,), _FL),
    _c("is_tekun", _B, "", "特困户", "A member receives 特困 support.", (_CA,), _FL),
    _c("dibao_since", _D, "", "低保起始日期", "Start of the current 低保 spell.", (_CA,), _FL),
    _c(
        "disabled_count",
        _I,
        "persons",
        "残疾人数",
        "Members with a certificate.",
        ("disability",),
        _FL,
    ),
    _c(
        "severe_disabled_count",
        _I,
        "persons",
        "重度残疾人数",
        "Members with disability grade 1 or 2.",
        ("disability",),
        _FL,
    ),
    _c(
        "disability_onset_12m",
        _I,
        "persons",
        "新增残疾人数",
        "Members whose first disability certificate was issued in the 12 months up to the period.",
        ("disability",),
        _FL,
    ),
    _c(
        "serious_illness_count",
        _I,
        "persons",
        "大病人数",
        "Members with a serious illness.",
        ("chronic_illness",),
        _FL,
    ),
    _c(
        "chronic_illness_count",
        _I,
        "persons",
        "慢性病人数",
        "Members with a chronic illness.",
        ("chronic_illness",),
        _FL,
    ),
    _c(
        "students_compulsory",
        _I,
        "persons",
        "义务教育学生数",
        "Primary and junior.",
        ("students",),
        _FL,
    ),
    _c(
        "students_high_school",
        _I,
        "persons",
        "高中中职学生数",
        "Senior/vocational.",
        ("students",),
        _FL,
    ),
    _c(
        "students_tertiary",
        _I,
        "persons",
        "大学生数",
        "College and university.",
        ("students",),
        _FL,
    ),
    _c("house_unsafe", _B, "", "住房不安全", "Dwelling rated C or D.", ("house_safety",), _FL),
    _c(
        "water_unsafe", _B, "", "饮水不安全", "Drinking water not secure.", ("drinking_water",), _FL
    ),
    _c(
        "disaster_affected_12m",
        _B,
        "",
        "受灾",
        "Affected by a disaster in 12 months.",
        ("disaster_losses",),
        _FL,
    ),
    _c(
        "disaster_loss_12m",
        _F,
        "yuan",
        "灾害损失",
        "Assessed losses, 12 months.",
        ("disaster_losses",),
        _FL,
    ),
    _c(
        "public_payroll_count",
        _I,
        "persons",
        "财政供养人数",
        "Members paid from public funds (财政供养人员).",
        ("public_payroll",),
        _FL,
    ),
    _c(
        "payments_after_death_count",
        _I,
        "count",
        "死亡后发放笔数",
        "低保/特困 payments to members after their registered death.",
        (_CA, _HR),
        _FL,
    ),
    _c(
        "payments_after_death_amount",
        _F,
        "yuan",
        "死亡后发放金额",
        "Amount of those payments.",
        (_CA, _HR),
        _FL,
    ),
    # registry and monitoring status, history
    _c(
        "is_left_poverty",
        _B,
        "",
        "脱贫户",
        "Left registered poverty (脱贫户), whatever the current status.",
        (_PR,),
        _ST,
    ),
    _c(
        "registry_status",
        _S,
        "",
        "建档立卡/监测状态",
        "Code list registry_status: ordinary / exited_poverty / monitored / risk_eliminated.",
        (_PR,),
        _ST,
    ),
    _c(
        "monitoring_type",
        _S,
        "",
        "监测对象类型",
        "Code list monitoring_object_type; NULL when not monitored.",
        (_PR,),
        _ST,
    ),
    _c("monitoring_since", _D, "", "纳入监测日期", "Start of the current spell.", (_PR,), _ST),
    _c("risk_eliminated_date", _D, "", "风险消除日期", "Last risk elimination.", (_PR,), _ST),
    _c("times_monitored", _I, "count", "纳入监测次数", "Spells so far.", (_PR,), _ST),
    # change features
    _c(
        "income_net_pc_last_year",
        _F,
        "yuan/person/year",
        "上年同期人均纯收入",
        "income_net_pc of the same period one year earlier.",
        _INCOME_SOURCES,
        _CH,
    ),
    _c(
        "income_change_yoy",
        _F,
        "ratio",
        "收入同比变化",
        "income_net_pc / income_net_pc_last_year - 1.",
        _INCOME_SOURCES,
        _CH,
    ),
    _c(
        "labourer_shock_12m",
        _B,
        "",
        "主要劳动力变故",
        "Death, serious illness or disability of a labour-capable member in 12 months.",
        (_HR, "chronic_illness", "disability"),
        _CH,
    ),
    _c("job_loss_12m", _B, "", "失业", "A member lost a job in 12 months.", ("employment",), _CH),
    _c(
        "job_loss_wages_12m",
        _F,
        "yuan",
        "失业损失工资",
        "Wages lost to job losses begun in 12 months: the lost job's monthly wage times the months "
        "without work (while still without work, at least the county's usual spell).",
        ("employment",),
        _CH,
    ),
    _c(
        "job_loss_months_out",
        _I,
        "months",
        "失业月数",
        "Longest time without work so far after a job loss begun in 12 months.",
        ("employment",),
        _CH,
    ),
    _c(
        "microcredit_overdue_12m",
        _B,
        "",
        "扶贫小额信贷逾期",
        "A member's poverty-alleviation microcredit loan (扶贫小额信贷) fell overdue in 12 months "
        "(reported overdue and normal in them): a sign that the household's farming project or "
        "business failed. A loan overdue or extended throughout the 12 months is a standing "
        "debt, not counted.",
        ("microcredit_loans",),
        _CH,
    ),
    _c(
        "microcredit_overdue_principal",
        _F,
        "yuan",
        "逾期贷款未还本金",
        "Outstanding principal of the members' microcredit loans that fell overdue in 12 months "
        "and are overdue in their latest report up to the period.",
        ("microcredit_loans",),
        _CH,
    ),
    _c(
        "last_shock_date",
        _D,
        "",
        "最近变故日期",
        "Date of the latest shock (illness, disability, death, disaster, job loss).",
        (_HR, "chronic_illness", "disability", "disaster_losses", "employment"),
        _CH,
    ),
    _c(
        "months_since_last_shock",
        _I,
        "months",
        "距最近变故月数",
        "Whole months from last_shock_date to period_end.",
        (),
        _CH,
    ),
    # evidence
    _c(
        EVIDENCE_COLUMN,
        _S,
        "json",
        "数据来源",
        "JSON object: column name -> list of source _record_id.",
        (),
        PanelGroup.EVIDENCE,
    ),
)

_BY_NAME: dict[str, PanelColumn] = {column.name: column for column in PANEL_COLUMNS}


def panel_columns() -> Mapping[str, PanelColumn]:
    """The declared panel columns by name, in declaration order."""
    return _BY_NAME


def panel_schema() -> sch.Schema:
    """The panel as an Ibis schema (for memtables, empty tables and checks)."""
    import ibis

    return ibis.schema({column.name: column.dtype.value for column in PANEL_COLUMNS})


def check_panel_table(table: ir.Table) -> None:
    """Check that a table has every panel column with the declared type.

    Raises:
        UserError: naming the missing or mistyped columns.
    """
    import ibis.expr.datatypes as dt

    problems: list[str] = []
    schema = table.schema()
    for column in PANEL_COLUMNS:
        if column.name not in schema:
            problems.append(f"missing column '{column.name}' ({column.dtype.value})")
            continue
        actual = schema[column.name]
        expected = dt.dtype(column.dtype.value)
        same_family = (actual.is_integer() and expected.is_integer()) or (
            actual.is_floating() and expected.is_floating()
        )
        if not same_family and actual.copy(nullable=True) != expected.copy(nullable=True):
            problems.append(f"column '{column.name}' is {actual}, expected {column.dtype.value}")
    if problems:
        raise UserError(
            f"table '{PANEL_TABLE}' does not match the panel schema: " + "; ".join(problems)
        )


def encode_evidence(records: Mapping[str, list[str]]) -> str:
    """Encode a column → record-ids mapping for the `evidence` column."""
    return json.dumps({k: list(v) for k, v in records.items()}, ensure_ascii=False, sort_keys=True)


def decode_evidence(text: str | None) -> dict[str, list[str]]:
    """Decode the `evidence` column; NULL or malformed text gives an empty mapping."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): [str(item) for item in v] for k, v in raw.items() if isinstance(v, list)}


def panel_memtable(rows: Sequence[Mapping[str, Any]]) -> ir.Table:
    """An in-memory panel table from row mappings; columns not given are NULL.

    Raises:
        UserError: a row names a column the panel does not declare.
    """
    import ibis
    import pyarrow as pa

    for index, row in enumerate(rows, start=1):
        unknown = sorted(set(row) - set(_BY_NAME))
        if unknown:
            raise UserError(f"panel row {index}: unknown column(s) {', '.join(unknown)}")
    schema = panel_schema()
    arrow_schema = schema.to_pyarrow()
    data = {name: [row.get(name) for row in rows] for name in schema.names}
    return ibis.memtable(pa.table(data, schema=arrow_schema))
