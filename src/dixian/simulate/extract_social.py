"""Extractors for social assistance, pensions, employment, payroll, tax and deposits."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dixian.simulate.extract import _BANKS, _WORK_PLACES, Batch, Extractor, _period
from dixian.simulate.income import PUBLIC_WAGE_MONTH
from dixian.simulate.population import age_at


def civil_affairs_assistance(ex: Extractor) -> Iterator[Batch]:
    """低保/特困 per member and month, 临时救助 grants, and payments that go on after death."""
    s = ex.s
    pay = ex.events("assistance_month")
    temp = ex.events("temporary_assistance")
    late = ex.events("paid_after_death")
    for m in range(ex.visible):
        month = ex.month(m)
        persons, households, _ = ex.members(m)
        parts: list[dict[str, np.ndarray]] = []
        if pay:
            rows = np.flatnonzero(pay["month"] == m)
            lookup = np.full(s.n_households, -1, dtype=np.int64)
            lookup[pay["household"][rows]] = rows
            sel = lookup[households] >= 0
            r = lookup[households[sel]]
            parts.append(
                {
                    "p": persons[sel],
                    "h": households[sel],
                    "program": pay["program"][r],
                    "amount": pay["per_member"][r].astype(float),
                    "approved": pay["approved"][r],
                    "date": np.full(r.size, month.start),
                }
            )
        if late:
            active = (late["from_month"] < m) & (late["from_month"] + late["months"] >= m)
            rows = np.flatnonzero(active)
            if rows.size:
                hh = late["household"][rows]
                parts.append(
                    {
                        "p": late["person"][rows],
                        "h": hh,
                        "program": np.full(rows.size, "dibao"),
                        "amount": np.full(rows.size, 560.0),
                        "approved": s.households["dibao_since"][hh],
                        "date": np.full(rows.size, month.start),
                    }
                )
        if temp:
            rows = np.flatnonzero(ex.month_index_of(temp["date"]) == m)
            hh = temp["household"][rows]
            heads = _heads(ex, m, hh)
            ok = heads >= 0
            parts.append(
                {
                    "p": heads[ok],
                    "h": hh[ok],
                    "program": np.full(int(ok.sum()), "temporary_assistance"),
                    "amount": temp["amount"][rows][ok],
                    "approved": temp["date"][rows][ok],
                    "date": temp["date"][rows][ok],
                }
            )
        parts = [p for p in parts if p["p"].size]
        if not parts:
            continue
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        p_rows, h_rows = cat["p"].astype(np.int64), cat["h"].astype(np.int64)
        size = np.bincount(households, minlength=s.n_households)
        ident = ex.identity(p_rows, h_rows)
        heads = _heads(ex, m, h_rows)
        cols = {
            "id_number": ident["id_number"],
            "name": ident["name"],
            "applicant_id_number": np.where(
                heads >= 0, s.persons["id_number"][np.maximum(heads, 0)], ""
            ),
            "region_code": ident["region_code"],
            "program": cat["program"],
            "household_members_covered": np.maximum(size[h_rows], 1),
            "amount": cat["amount"],
            "payment_month": cat["date"],
            "approval_date": cat["approved"],
        }
        yield Batch(_period(ex, m), cols, p_rows, h_rows)


def _heads(ex: Extractor, m: int, households: np.ndarray) -> np.ndarray:
    persons, hh, relation = ex.members(m)
    lookup = np.full(ex.s.n_households, -1, dtype=np.int64)
    heads = relation == 0
    lookup[hh[heads]] = persons[heads]
    result: np.ndarray = lookup[households]
    return result


def pensions(ex: Extractor) -> Iterator[Batch]:
    """Monthly pensions: residents' basic pension for those 60+, employees' for retirees."""
    s = ex.s
    base = s.params.income.basic_pension_month
    for m in range(ex.visible):
        month = ex.month(m)
        persons, households, _ = ex.members(m)
        age = age_at(s.persons["birth"][persons], month.start)
        sel = age >= 60
        p_rows, h_rows = persons[sel], households[sel]
        employee = s.persons["public_employee"][p_rows]
        ident = ex.identity(p_rows, h_rows)
        amount = np.where(employee, 3_800.0, base + 10.0 * (m // 12))
        cols = {
            "id_number": ident["id_number"],
            "name": ident["name"],
            "region_code": ident["region_code"],
            "pension_type": np.where(employee, "employee", "resident_basic"),
            "monthly_amount": amount,
            "payment_month": np.full(p_rows.size, month.start),
        }
        yield Batch(_period(ex, m), cols, p_rows, h_rows)


def employment(ex: Extractor) -> Iterator[Batch]:
    """Quarter-end snapshots of the employed; job losses reported in their month."""
    s = ex.s
    jobs = ex.events("job_loss")
    snapshots = {int(chunk["month"][0]): chunk for chunk in s.logs.get("jobs", [])}
    work_place = _WORK_PLACES[ex.rng.integers(0, _WORK_PLACES.size, s.n_persons)]
    for m in range(ex.visible):
        month = ex.month(m)
        persons, households, _ = ex.members(m)
        lookup = np.full(s.n_persons, -1, dtype=np.int64)
        lookup[persons] = households
        parts = []
        snapshot = snapshots.get(m)
        if snapshot is not None:
            listed = lookup[snapshot["person"]] >= 0
            p_rows = snapshot["person"][listed].astype(np.int64)
            h_rows = lookup[p_rows]
            mig = snapshot["migrant"][listed]
            parts.append(
                {
                    "p": p_rows,
                    "h": h_rows,
                    "employment_type": np.where(mig, "migrant", "local_wage"),
                    "employment_status": np.full(p_rows.size, "employed"),
                    "employer": np.where(mig, "", "本地企业"),
                    "work_place": np.where(mig, work_place[p_rows], s.geography.county_name),
                    "monthly_wage": np.round(snapshot["wage"][listed].astype(np.float64), 0),
                    "start_date": np.full(p_rows.size, np.datetime64("NaT"), dtype="datetime64[D]"),
                    "end_date": np.full(p_rows.size, np.datetime64("NaT"), dtype="datetime64[D]"),
                }
            )
        if jobs:
            rows = np.flatnonzero(ex.month_index_of(jobs["date"]) == m)
            p_rows = jobs["person"][rows]
            ok = lookup[p_rows] >= 0
            p_rows, d = p_rows[ok], jobs["date"][rows][ok]
            parts.append(
                {
                    "p": p_rows,
                    "h": lookup[p_rows],
                    "employment_type": np.full(p_rows.size, "migrant"),
                    "employment_status": np.full(p_rows.size, "unemployed"),
                    "employer": np.full(p_rows.size, ""),
                    "work_place": work_place[p_rows],
                    "monthly_wage": np.zeros(p_rows.size),
                    "start_date": np.full(p_rows.size, np.datetime64("NaT"), dtype="datetime64[D]"),
                    "end_date": d,
                }
            )
        parts = [p for p in parts if p["p"].size]
        if not parts:
            continue
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        p_rows, h_rows = cat.pop("p").astype(np.int64), cat.pop("h").astype(np.int64)
        ident = ex.identity(p_rows, h_rows)
        cols = {k: ident[k] for k in ("id_number", "name", "sex", "region_code")}
        cols.update(cat)
        cols["report_month"] = np.full(p_rows.size, month.start)
        yield Batch(_period(ex, m), cols, p_rows, h_rows)


def public_payroll(ex: Extractor) -> Iterator[Batch]:
    """Monthly payroll of persons paid from public funds."""
    s = ex.s
    units = np.array(
        ["县人民医院", "县教育局", "乡镇人民政府", "县农业农村局", "县第一中学", "乡镇卫生院"]
    )
    unit = units[ex.rng.integers(0, units.size, s.n_persons)]
    kind = np.array(["civil_servant", "institution_staff", "contract"])[
        ex.rng.choice(3, s.n_persons, p=[0.3, 0.55, 0.15])
    ]
    start = s.persons["birth"] + np.timedelta64(22 * 365, "D")
    for m in range(ex.visible):
        month = ex.month(m)
        persons, households, _ = ex.members(m)
        sel = s.persons["public_employee"][persons]
        p_rows, h_rows = persons[sel], households[sel]
        ident = ex.identity(p_rows, h_rows)
        cols = {
            "id_number": ident["id_number"],
            "name": ident["name"],
            "employer_unit": unit[p_rows],
            "position_type": kind[p_rows],
            "monthly_salary": np.round(
                PUBLIC_WAGE_MONTH * s.persons["wage_factor"][p_rows] ** 0.3, 0
            ),
            "start_date": start[p_rows],
            "report_month": np.full(p_rows.size, month.start),
        }
        yield Batch(_period(ex, m), cols, p_rows, h_rows)


def tax_and_provident_fund(ex: Extractor) -> Iterator[Batch]:
    """Yearly: public employees and migrants with formal employers."""
    s = ex.s
    formal = ex.rng.uniform(0, 1, s.n_persons) < 0.25
    for year_index in range(ex.visible // 12):
        m = 12 * year_index + 11
        month = ex.month(m)
        persons, households, _ = ex.members(m)
        pub = s.persons["public_employee"][persons]
        mig = s.persons["migrant"][persons] & formal[persons]
        sel = pub | mig
        p_rows, h_rows = persons[sel], households[sel]
        wage = np.where(
            s.persons["public_employee"][p_rows],
            PUBLIC_WAGE_MONTH * 12,
            s.params.income.migrant_wage_month * 12 * s.persons["wage_factor"][p_rows],
        )
        ident = ex.identity(p_rows, h_rows)
        cols = {
            "id_number": ident["id_number"],
            "name": ident["name"],
            "tax_year": np.full(p_rows.size, month.year),
            "taxable_income": np.round(wage, 0),
            "provident_fund_contributions": np.round(
                np.where(s.persons["public_employee"][p_rows], wage * 0.12, wage * 0.05), 0
            ),
            "employer": np.where(s.persons["public_employee"][p_rows], "县财政局", "务工企业"),
        }
        yield Batch(f"{month.year:04d}", cols, p_rows, h_rows)


def deposits(ex: Extractor) -> Iterator[Batch]:
    """Year-end balances of adults in registered or assisted households (authorised checks)."""
    s = ex.s
    h = s.households
    bank = _BANKS[ex.rng.integers(0, _BANKS.size, s.n_persons)]
    for year_index in range(ex.visible // 12):
        m = 12 * year_index + 11
        month = ex.month(m)
        persons, households, _relation = ex.members(m)
        age = age_at(s.persons["birth"][persons], month.end)
        n_h = h["household_id"].size
        covered = (
            (h["formerly_poor"] | (h["mon_state"] > 0) | h["dibao"] | h["tekun"])[households]
            if households.max(initial=0) < n_h
            else np.zeros(households.size, bool)
        )
        sel = covered & (age >= 18)
        p_rows, h_rows = persons[sel], households[sel]
        adults = np.bincount(h_rows, minlength=s.n_households).astype(float)
        share = ex.rng.dirichlet(np.ones(2), p_rows.size)[:, 0] if p_rows.size else np.zeros(0)
        balance = np.round(h["deposits"][h_rows] / np.maximum(adults[h_rows], 1) * (0.5 + share), 2)
        ident = ex.identity(p_rows, h_rows)
        cols = {
            "id_number": ident["id_number"],
            "name": ident["name"],
            "institution": bank[p_rows],
            "deposit_balance": balance,
            "securities_value": np.where(ex.rng.uniform(0, 1, p_rows.size) < 0.02, 10_000.0, 0.0),
            "as_of_date": np.full(p_rows.size, month.end),
        }
        yield Batch(f"{month.year:04d}", cols, p_rows, h_rows)
