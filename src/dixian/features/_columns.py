"""The panel's column families, each computed from its department sources.

Every function takes the member grid (one row per living member and period) and returns the
household-period values of its columns with the evidence rows behind them, or None when none
of its sources has been ingested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ibis

from dixian.features.sources import death_dates, linked_rows, membership_months, month_index

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from dixian.features.builder import FeatureSettings, _Part

KEYS = ["household_id", "period"]
Window = Callable[..., "ir.Table"]
NON_COMPULSORY_STAGES = (
    "senior_secondary",
    "secondary_vocational",
    "higher_vocational",
    "undergraduate",
    "postgraduate",
)
EXEMPT_VEHICLES = ("motorcycle", "agricultural")
COMPULSORY_STAGES = ("primary", "junior_secondary")
HIGH_SCHOOL_STAGES = ("senior_secondary", "secondary_vocational")
TERTIARY_STAGES = ("higher_vocational", "undergraduate", "postgraduate")


def _stage_in(stage: ir.StringValue, stages: tuple[str, ...]) -> ir.BooleanValue:
    # A NULL condition counts as 0 on DuckDB but makes Spark's count NULL: never pass NULL.
    return stage.isin(list(stages)).fill_null(False)


def _part(values: ir.Table, evidence: list[ir.Table]) -> _Part:
    from dixian.features.builder import _Part

    return _Part(values=values, evidence=evidence)


def _evidence(joined: ir.Table, column: str, where: Any = None) -> ir.Table:
    rows = joined if where is None else joined.filter(where)
    return rows.select(
        "household_id", "period", column=ibis.literal(column), _record_id="_record_id"
    )


def _with_month(rows: ir.Table, date_column: str) -> ir.Table:
    return rows.filter(rows[date_column].notnull()).mutate(e_month=month_index(rows[date_column]))


def members(backend: BaseBackend, grid: ir.Table) -> ir.Table:
    """Keys, head and age structure."""
    del backend
    head = grid.relation_to_head == "head"
    return grid.group_by(KEYS).aggregate(
        period_end=grid.period_end.max(),
        p_month=grid.p_month.max(),
        region_code=ibis.coalesce(grid.region_code.max(where=head), grid.region_code.max()),
        head_person_id=grid.person_id.max(where=head),
        member_count=grid.count(),
        members_under_16=grid.count(where=(grid.age < 16).fill_null(False)),
        members_16_59=grid.count(where=((grid.age >= 16) & (grid.age <= 59)).fill_null(False)),
        members_60_plus=grid.count(where=(grid.age >= 60).fill_null(False)),
        head_age=grid.age.max(where=head),
    )


def _school_year(end: ir.DateValue) -> ir.IntegerValue:
    return (end.month() >= 9).ifelse(end.year(), end.year() - 1).cast("int64")


def labour(backend: BaseBackend, grid: ir.Table, settings: FeatureSettings) -> _Part | None:
    """Labour capacity, dependants, disability, illness and students, as at the period's end."""
    flags = grid.select("household_id", "period", "person_id", "age", "p_month", "period_end")
    evidence: list[ir.Table] = []
    conditions: dict[str, ir.Table] = {}
    disability = linked_rows(backend, "disability", ["disability_grade", "issue_date"])
    if disability is not None:
        conditions["disability"] = _with_month(disability, "issue_date").mutate(
            severe=disability.disability_grade.isin(["1", "2"])
        )
    illness = linked_rows(backend, "chronic_illness", ["illness_kind", "diagnosis_date"])
    if illness is not None:
        conditions["illness"] = _with_month(illness, "diagnosis_date")
    if not conditions and linked_rows(backend, "students", ["school_year"]) is None:
        return None
    for name, rows in conditions.items():
        g = flags.select(
            g_person="person_id", household_id="household_id", period="period", p_month="p_month"
        )
        joined = rows.inner_join(g, [rows.person_id == g.g_person, rows.e_month <= g.p_month])
        if name == "disability":
            per = joined.group_by(["household_id", "period", "person_id"]).aggregate(
                is_disabled=ibis.literal(True),
                is_severe=joined.severe.any(),
                # Certified for the first time within the window: a disability onset.
                is_new_disabled=joined.e_month.min()
                > joined.p_month.max() - settings.window_months,
            )
            evidence.append(_evidence(joined, "disabled_count"))
            recent = joined.e_month > joined.p_month - settings.window_months
            evidence.append(_evidence(joined, "disability_onset_12m", recent))
        else:
            per = joined.group_by(["household_id", "period", "person_id"]).aggregate(
                is_serious=(joined.illness_kind == "serious").any(),
                is_chronic=(joined.illness_kind == "chronic").any(),
            )
            evidence.append(
                _evidence(joined, "serious_illness_count", joined.illness_kind == "serious")
            )
            evidence.append(
                _evidence(joined, "chronic_illness_count", joined.illness_kind == "chronic")
            )
        flags = flags.left_join(per, ["household_id", "period", "person_id"]).drop(
            "household_id_right", "period_right", "person_id_right"
        )
    students = linked_rows(backend, "students", ["school_stage", "student_status", "school_year"])
    if students is not None:
        enrolled = students.filter(students.student_status == "enrolled")
        g = flags.select(
            g_person="person_id",
            household_id="household_id",
            period="period",
            school_year=_school_year(flags.period_end),
        )
        joined = enrolled.inner_join(
            g, [enrolled.person_id == g.g_person, enrolled.school_year == g.school_year]
        )
        per = joined.group_by(["household_id", "period", "person_id"]).aggregate(
            stage=joined.school_stage.max()
        )
        evidence.append(_evidence(joined, "students_compulsory"))
        flags = flags.left_join(per, ["household_id", "period", "person_id"]).drop(
            "household_id_right", "period_right", "person_id_right"
        )
    present = set(flags.columns)

    def flag(name: str) -> ir.BooleanValue:
        return flags[name].fill_null(False) if name in present else ibis.literal(False)

    stage = flags.stage if "stage" in present else ibis.null("string")
    student = stage.notnull()
    severe = flag("is_severe")
    working_age = ((flags.age >= 16) & (flags.age <= 59)).fill_null(False)
    capable = working_age & ~severe & ~student & ~flag("is_serious")
    values = flags.group_by(KEYS).aggregate(
        labour_capacity_count=flags.count(where=capable),
        dependant_count=flags.count(
            where=((flags.age < 16) | (flags.age >= 60)).fill_null(False)
            | student
            | (severe & working_age)
        ),
        disabled_count=flags.count(where=flag("is_disabled")),
        severe_disabled_count=flags.count(where=severe),
        disability_onset_12m=flags.count(where=flag("is_new_disabled")),
        serious_illness_count=flags.count(where=flag("is_serious")),
        chronic_illness_count=flags.count(where=flag("is_chronic")),
        students_compulsory=flags.count(where=_stage_in(stage, COMPULSORY_STAGES)),
        students_high_school=flags.count(where=_stage_in(stage, HIGH_SCHOOL_STAGES)),
        students_tertiary=flags.count(where=_stage_in(stage, TERTIARY_STAGES)),
    )
    return _part(values, evidence)


def _window_sum(
    backend: BaseBackend,
    grid: ir.Table,
    window: Window,
    settings: FeatureSettings,
    *,
    dataset: str,
    date_column: str,
    amount: str,
    output: str,
    evidence_column: str,
    keep: Callable[[ir.Table], Any] | None = None,
    extra: list[str] | None = None,
) -> tuple[ir.Table, ir.Table] | None:
    rows = linked_rows(backend, dataset, [date_column, amount, *(extra or [])])
    if rows is None:
        return None
    if keep is not None:
        rows = rows.filter(keep(rows))
    joined = window(_with_month(rows, date_column), grid, "e_month", settings.window_months)
    values = joined.group_by(KEYS).aggregate(**{output: joined[amount].sum()})
    return values, _evidence(joined, evidence_column)


def incomes(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings, window: Window
) -> _Part | None:
    """Payroll wages and transfers over 12 months (sums of monthly payments); wages from
    employment records are in `_wages`."""
    specs: list[dict[str, Any]] = [
        {
            "dataset": "public_payroll",
            "date_column": "report_month",
            "amount": "monthly_salary",
            "output": "wages_payroll",
            "evidence_column": "income_wages_pc",
        },
        {
            "dataset": "pensions",
            "date_column": "payment_month",
            "amount": "monthly_amount",
            "output": "transfers_pensions",
            "evidence_column": "income_transfers_pc",
        },
        {
            "dataset": "civil_affairs_assistance",
            "date_column": "payment_month",
            "amount": "amount",
            "output": "transfers_temporary",
            "evidence_column": "income_transfers_pc",
            "keep": lambda t: t.program == "temporary_assistance",
            "extra": ["program"],
        },
    ]
    return _combine(backend, grid, settings, window, specs)


def assistance(
    backend: BaseBackend, grid: ir.Table, settings: FeatureSettings, window: Window
) -> _Part | None:
    """低保 and 特困: payments over 12 months, status in the period, start of the spell."""
    rows = linked_rows(backend, "civil_affairs_assistance", ["program", "amount", "payment_month"])
    if rows is None:
        return None
    rows = _with_month(rows.filter(rows.program.isin(["dibao", "tekun"])), "payment_month")
    joined = window(rows, grid, "e_month", settings.window_months)
    in_month = joined.e_month == joined.p_month
    values = joined.group_by(KEYS).aggregate(
        assistance_paid_12m=joined.amount.sum(),
        is_dibao=(in_month & (joined.program == "dibao")).any(),
        is_tekun=(in_month & (joined.program == "tekun")).any(),
    )
    past = window(rows, grid, "e_month", 0, point_in_time=True)
    since = (
        past.filter(past.program == "dibao")
        .group_by(KEYS)
        .aggregate(dibao_since=past.payment_month.min())
    )
    # Flags missing after the join are filled once for the panel (_no_record_means_none).
    values = _outer(values, since)
    evidence = [_evidence(joined, "assistance_paid_12m")]
    after_death = _payments_after_death(backend, grid, rows)
    if after_death is not None:
        death_values, death_evidence = after_death
        values = _outer(values, death_values)
        evidence.append(death_evidence)
    return _part(values, evidence)


def _payments_after_death(
    backend: BaseBackend, grid: ir.Table, payments: ir.Table
) -> tuple[ir.Table, ir.Table] | None:
    """Payments to members after their registered death, charged to the surviving family.

    The family is the people who shared the deceased's household at the death; a payment
    counts for the household each of them lives in at the period. Following the people, not
    the household number, keeps the finding when the survivors re-register under a new
    household (a new head after the death, a split). Counted from the first feed month up to
    the period, not over 12 months: an overpayment stays a finding until it is recovered,
    and a death in one year is often noticed only in the next year's review.
    """
    deaths = death_dates(backend)
    if deaths is None:
        return None
    after = payments.inner_join(deaths, "person_id")
    after = after.filter(after.payment_month > after.death_date).select(
        "_record_id", "amount", "e_month", dead="person_id", d_month=month_index(after.death_date)
    )
    rows = membership_months(backend).select("person_id", "household_id", "m_month")
    dead = after.select("dead", "d_month").distinct()
    # The deceased's household at the death: their latest membership row up to that month.
    own = rows.inner_join(dead, rows.person_id == dead.dead).filter(
        lambda t: t.m_month <= t.d_month
    )
    last = own.group_by(["dead", "d_month"]).aggregate(h0=own.household_id.argmax(own.m_month))
    # Everyone whose latest row up to the death month is in that household.
    candidates = rows.inner_join(last, rows.household_id == last.h0).filter(
        lambda t: t.m_month <= t.d_month
    )
    candidates = candidates.select("dead", "d_month", "h0", kin="person_id").distinct()
    theirs = rows.inner_join(candidates, rows.person_id == candidates.kin).filter(
        lambda t: t.m_month <= t.d_month
    )
    at_death = theirs.group_by(["dead", "kin", "h0"]).aggregate(
        h_at=theirs.household_id.argmax(theirs.m_month)
    )
    family = at_death.filter(at_death.h_at == at_death.h0).select("dead", "kin")
    g = grid.select("household_id", "period", "p_month", kin="person_id")
    charged = after.inner_join(family, "dead").inner_join(
        g, [family.kin == g.kin, after.e_month <= g.p_month]
    )
    charged = charged.select("household_id", "period", "_record_id", "amount").distinct()
    values = charged.group_by(KEYS).aggregate(
        payments_after_death_count=charged.count(),
        payments_after_death_amount=charged.amount.sum(),
    )
    return values, _evidence(charged, "payments_after_death_count")


def _combine(
    backend: BaseBackend,
    grid: ir.Table,
    settings: FeatureSettings,
    window: Window,
    specs: list[dict[str, Any]],
) -> _Part | None:
    values: ir.Table | None = None
    evidence: list[ir.Table] = []
    for spec in specs:
        result = _window_sum(backend, grid, window, settings, **spec)
        if result is None:
            continue
        part_values, part_evidence = result
        evidence.append(part_evidence)
        values = part_values if values is None else _outer(values, part_values)
    return None if values is None else _part(values, evidence)


def _outer(left: ir.Table, right: ir.Table) -> ir.Table:
    """Full outer join on the keys, keys coalesced, every other column kept once."""
    joined = left.view().outer_join(right.view(), KEYS)
    others = [c for c in joined.columns if c not in (*KEYS, "household_id_right", "period_right")]
    return joined.select(
        household_id=ibis.coalesce(joined.household_id, joined.household_id_right),
        period=ibis.coalesce(joined.period, joined.period_right),
        **{c: joined[c] for c in others},
    )
