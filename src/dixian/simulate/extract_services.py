"""Extractors for health, education, disability, housing, water, disasters and assets."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dixian.simulate.extract import _DISABILITY_TYPES, Batch, Extractor, _period
from dixian.simulate.population import age_at

_CHRONIC = np.array(["高血压", "糖尿病", "慢性阻塞性肺疾病", "冠心病", "类风湿关节炎", "慢性肾病"])
_SERIOUS = np.array(["恶性肿瘤", "尿毒症", "脑卒中", "白血病", "重性精神障碍", "心脏病手术"])
# Injury diagnoses (ICD-10 chapter XIX, 损伤、中毒): what a claim for an accident's hospital
# stay carries in its diagnosis text.
INJURY_DIAGNOSES = np.array(
    ["四肢骨折", "脊柱骨折", "颅脑损伤", "胸腹部损伤", "多发性损伤", "烧伤", "农药中毒"]
)
_PLATES = np.array(list("ABCDEFGHJK"))


def _lookup_household(ex: Extractor, m: int, persons: np.ndarray) -> np.ndarray:
    p, h, _ = ex.members(m)
    lookup = np.full(ex.s.n_persons, -1, dtype=np.int64)
    lookup[p] = h
    result: np.ndarray = lookup[persons]
    return result


def medical_claims(ex: Extractor) -> Iterator[Batch]:
    """Inpatient stays after serious illness and accidents, chronic outpatient visits, and a
    thin stream of ordinary outpatient visits.

    An accident's stay is settled in the month of the accident with an injury diagnosis; it is
    charged to the household the victim belonged to (a fatal accident's emergency care too: the
    victim is no longer a member at the month's end).
    """
    s = ex.s
    rng = ex.rng
    onset = ex.events("illness_onset")
    accidents = _accidents(ex)
    chronic_visit = s.p("chronic") & (rng.uniform(0, 1, s.n_persons) < 0.35)
    serial = 0
    for m in range(ex.visible):
        month = ex.month(m)
        persons, households, _ = ex.members(m)
        parts = []
        if onset:
            for k, share in enumerate((0.5, 0.3, 0.2)):
                rows = np.flatnonzero(ex.month_index_of(onset["date"]) == m - k)
                p_rows = onset["person"][rows]
                hh = _lookup_household(ex, m, p_rows)
                ok = hh >= 0
                oop = onset["oop"][rows][ok] * share
                parts.append(
                    (
                        p_rows[ok],
                        hh[ok],
                        np.full(int(ok.sum()), "inpatient"),
                        oop / 0.35,
                        _SERIOUS[rng.integers(0, _SERIOUS.size, int(ok.sum()))],
                    )
                )
        if accidents:
            rows = np.flatnonzero(ex.month_index_of(accidents["date"]) == m)
            parts.append(
                (
                    accidents["person"][rows],
                    accidents["household"][rows],
                    np.full(rows.size, "inpatient"),
                    # The simulator's amount is the out-of-pocket part, as for an illness.
                    accidents["amount"][rows] / 0.35,
                    INJURY_DIAGNOSES[rng.integers(0, INJURY_DIAGNOSES.size, rows.size)],
                )
            )
        chronic_now = chronic_visit[persons] & (rng.uniform(0, 1, persons.size) < 0.5)
        p_rows, hh = persons[chronic_now], households[chronic_now]
        parts.append(
            (
                p_rows,
                hh,
                np.full(p_rows.size, "chronic_outpatient"),
                np.round(rng.lognormal(np.log(420), 0.5, p_rows.size), 2),
                _CHRONIC[rng.integers(0, _CHRONIC.size, p_rows.size)],
            )
        )
        ordinary = rng.uniform(0, 1, persons.size) < 0.02
        p_rows, hh = persons[ordinary], households[ordinary]
        parts.append(
            (
                p_rows,
                hh,
                np.full(p_rows.size, "outpatient"),
                np.round(rng.lognormal(np.log(180), 0.7, p_rows.size), 2),
                np.full(p_rows.size, "普通门诊"),
            )
        )
        p_rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
        h_rows = np.concatenate([p[1] for p in parts]).astype(np.int64)
        visit = np.concatenate([p[2] for p in parts])
        total = np.round(np.concatenate([p[3] for p in parts]), 2)
        diagnosis = np.concatenate([p[4] for p in parts])
        if p_rows.size == 0:
            continue
        inpatient = visit == "inpatient"
        basic = np.round(
            total * np.where(inpatient, 0.55, np.where(visit == "outpatient", 0.5, 0.6)), 2
        )
        critical = np.round(
            np.where(inpatient & (total > 15_000), (total - 15_000) * 0.6 * 0.35, 0.0), 2
        )
        poor = (s.households["formerly_poor"] | s.households["dibao"])[h_rows]
        assistance = np.round(np.where(inpatient & poor, (total - basic - critical) * 0.3, 0.0), 2)
        oop = np.round(np.maximum(total - basic - critical - assistance, 0.0), 2)
        admission = month.random_days(p_rows.size, rng)
        settlement = np.minimum(
            admission + rng.integers(0, 15, p_rows.size).astype("timedelta64[D]"), month.end
        )
        ident = ex.identity(p_rows, h_rows)
        ids = np.char.add(
            f"YB{month.year:04d}{month.month:02d}",
            np.char.zfill((serial + np.arange(p_rows.size)).astype(str), 8),
        )
        serial += p_rows.size
        cols = {
            "settlement_id": ids,
            "id_number": ident["id_number"],
            "name": ident["name"],
            "sex": ident["sex"],
            "region_code": ident["region_code"],
            "visit_type": visit,
            "admission_date": admission,
            "settlement_date": settlement,
            "diagnosis_category": diagnosis,
            "total_cost": total,
            "basic_insurance_paid": basic,
            "critical_illness_paid": critical,
            "medical_assistance_paid": assistance,
            "out_of_pocket": oop,
        }
        yield Batch(_period(ex, m), cols, p_rows, h_rows)


def _accidents(ex: Extractor) -> dict[str, np.ndarray]:
    """The simulator's accidents (shock log rows of kind `accident`): person, household, date,
    amount (the out-of-pocket medical cost)."""
    shocks = ex.events("shock")
    if not shocks:
        return {}
    rows = np.flatnonzero(shocks["kind"] == "accident")
    return {name: shocks[name][rows] for name in ("person", "household", "date", "amount")}


def chronic_illness(ex: Extractor) -> Iterator[Batch]:
    """The first month: everyone with a chronic or serious illness; later: new serious cases."""
    s = ex.s
    rng = ex.rng
    onset = ex.events("illness_onset")
    for m in range(ex.visible):
        month = ex.month(m)
        if m == 0:
            persons, households, _ = ex.members(0)
            sel = s.persons["chronic"][persons] | s.persons["serious_ill"][persons]
            p_rows, h_rows = persons[sel], households[sel]
            serious = s.persons["serious_ill"][p_rows] & (rng.uniform(0, 1, p_rows.size) < 0.8)
            diagnosed = month.start - rng.integers(30, 3650, p_rows.size).astype("timedelta64[D]")
        else:
            if not onset:
                continue
            rows = np.flatnonzero(ex.month_index_of(onset["date"]) == m)
            p_rows = onset["person"][rows]
            h_rows = _lookup_household(ex, m, p_rows)
            ok = h_rows >= 0
            p_rows, h_rows = p_rows[ok], h_rows[ok]
            serious = np.ones(p_rows.size, dtype=bool)
            diagnosed = onset["date"][rows][ok]
        if p_rows.size == 0:
            continue
        ident = ex.identity(p_rows, h_rows)
        cols = dict(ident)
        cols.update(
            {
                "illness_kind": np.where(serious, "serious", "chronic"),
                "disease_category": np.where(
                    serious,
                    _SERIOUS[rng.integers(0, _SERIOUS.size, p_rows.size)],
                    _CHRONIC[rng.integers(0, _CHRONIC.size, p_rows.size)],
                ),
                "diagnosis_date": diagnosed,
                "family_doctor_contract": rng.uniform(0, 1, p_rows.size) < 0.7,
            }
        )
        yield Batch(_period(ex, m), cols, p_rows, h_rows)


def students(ex: Extractor) -> Iterator[Batch]:
    """Each September: enrolled students, their stage, costs and aid."""
    s = ex.s
    rng = ex.rng
    measures = s.households["measures"]
    stages = {int(chunk["month"][0]): chunk for chunk in s.logs.get("school_stages", [])}
    # A student stays in the same kind of school from year to year.
    academic = rng.uniform(0, 1, s.n_persons)
    for m in range(ex.visible):
        month = ex.month(m)
        if month.month != 9:
            continue
        persons, households, _ = ex.members(m)
        age = age_at(s.persons["birth"][persons], month.start)
        stage_of = np.zeros(s.n_persons, dtype=np.int8)
        snapshot = stages.get(m)
        if snapshot is not None:
            stage_of[snapshot["person"]] = snapshot["stage"]
        stage_now = stage_of[persons]
        compulsory = (age >= 6) & (age < 15)
        sel = compulsory | (stage_now >= 2)
        p_rows, h_rows = persons[sel], households[sel]
        a = age[sel]
        st = stage_now[sel]
        kind = academic[p_rows]
        stage = np.where(
            st == 3,
            np.where(kind < 0.5, "undergraduate", "higher_vocational"),
            np.where(
                st == 2,
                np.where(kind < 0.65, "senior_secondary", "secondary_vocational"),
                np.where(a >= 12, "junior_secondary", "primary"),
            ),
        )
        dropout = (a >= 13) & (a < 15) & (rng.uniform(0, 1, a.size) < 0.01)
        fees = np.where(
            st == 3,
            s.params.shocks.university_cost_year,
            np.where(st == 2, s.params.shocks.high_school_cost_year, 600.0),
        )
        aided = ((measures[h_rows] >> 6) & 1 == 1) | s.households["dibao"][h_rows]
        ident = ex.identity(p_rows, h_rows)
        cols = dict(ident)
        cols.update(
            {
                "school_name": np.where(
                    st >= 2, np.where(st == 3, "省内高校", "县第一中学"), "乡镇中心学校"
                ),
                "school_stage": stage,
                "student_status": np.where(dropout, "dropout", "enrolled"),
                "school_year": np.full(p_rows.size, month.year),
                "annual_fees": np.round(fees * rng.uniform(0.85, 1.15, p_rows.size), 0),
                "aid_amount": np.where(aided & (st >= 2), 3_000.0, 0.0),
            }
        )
        yield Batch(f"{month.year:04d}", cols, p_rows, h_rows)


def disability(ex: Extractor) -> Iterator[Batch]:
    """The first month: certificate holders; later: newly certified persons."""
    s = ex.s
    rng = ex.rng
    onset = ex.events("disability_onset")
    for m in range(ex.visible):
        month = ex.month(m)
        if m == 0:
            persons, households, _ = ex.members(0)
            sel = s.persons["disability_type"][persons] > 0
            p_rows, h_rows = persons[sel], households[sel]
            issued = month.start - rng.integers(30, 5000, p_rows.size).astype("timedelta64[D]")
        else:
            if not onset:
                continue
            rows = np.flatnonzero(ex.month_index_of(onset["date"]) == m)
            p_rows = onset["person"][rows]
            h_rows = _lookup_household(ex, m, p_rows)
            ok = h_rows >= 0
            p_rows, h_rows = p_rows[ok], h_rows[ok]
            issued = onset["date"][rows][ok] + np.timedelta64(20, "D")
        if p_rows.size == 0:
            continue
        grade = s.persons["disability_grade"][p_rows]
        dtype = s.persons["disability_type"][p_rows]
        ident = ex.identity(p_rows, h_rows)
        cols = {k: ident[k] for k in ("id_number", "name", "sex", "region_code")}
        cols.update(
            {
                "certificate_number": np.char.add(
                    np.char.add(ident["id_number"].astype(str), dtype.astype(str)),
                    grade.astype(str),
                ),
                "disability_type": _DISABILITY_TYPES[dtype],
                "disability_grade": grade.astype(str),
                "issue_date": issued,
                "living_subsidy": (
                    s.households["dibao"][h_rows] | s.households["formerly_poor"][h_rows]
                ),
                "care_subsidy": grade <= 2,
            }
        )
        yield Batch(_period(ex, m), cols, p_rows, h_rows)
