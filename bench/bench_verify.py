"""Benchmark: batch verification of every program, and single applications.

Generates a synthetic household_period panel conforming to the declared schema (numpy,
seeded), stores it in a DuckDB warehouse with `persons` and `household_membership` for a
county of about three persons per household, then times:

- batch: `verify_programs` for all programs over every household, materialised as
  `verify_results`, plus `find_problem_leads` (target at full size: <= 60 s on 2 cores);
- application: `verify_application` for random households against the warm warehouse
  (target: p95 <= 100 ms).

Sizes: tiny 2,000 households; small 100,000; full 1,000,000 households (the application part
uses the first ~333,000 households, i.e. a 1,000,000-person county).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from dixian.engine import open_duckdb
from dixian.features import panel_schema
from dixian.policy import load_policy_set
from dixian.verify import (
    Declaration,
    find_problem_leads,
    params_function,
    verify_application,
    verify_programs,
)
from dixian.verify.lookup import prepare_lookups, single_threaded
from dixian.verify.workspace import streaming_memory

_HOUSEHOLDS = {"tiny": 2_000, "small": 100_000, "full": 1_000_000}
_APPLICATIONS = {"tiny": 8, "small": 200, "full": 300}
_PERIOD = "2024-06"
_PERSONS_PER_HOUSEHOLD = 3
_MEMORY = "6GB"


def _maybe_null(rng: np.random.Generator, values: np.ndarray, share: float) -> pa.Array:
    mask = rng.random(len(values)) < share
    return pa.array(values, mask=mask)


def synthetic_panel(households: int, *, seed: int = 11) -> pa.Table:
    """A seeded panel of `households` rows for one period, every declared column filled."""
    rng = np.random.default_rng(seed)
    n = households
    ids = np.array([f"H{i:07d}" for i in range(n)], dtype=object)
    members = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.1, 0.2, 0.25, 0.25, 0.12, 0.08])
    elderly = rng.binomial(members, 0.25)
    children = rng.binomial(members - elderly, 0.3)
    working = members - elderly - children
    labour = rng.binomial(working, 0.85)
    income_pc = rng.lognormal(mean=9.4, sigma=0.7, size=n)
    wages = income_pc * rng.uniform(0.2, 0.6, n)
    operating = income_pc * rng.uniform(0.1, 0.4, n)
    transfers = income_pc - wages - operating
    beneficiary = (income_pc < 8000) & (rng.random(n) < 0.5)
    fault = beneficiary & (rng.random(n) < 0.03)
    vehicles = rng.poisson(0.2, n) + fault * (rng.random(n) < 0.3)
    payroll = (rng.random(n) < 0.01).astype(np.int64) + fault * (rng.random(n) < 0.3)
    deposits = rng.lognormal(8.5, 1.2, n)
    medical = rng.lognormal(6.5, 1.5, n) * (rng.random(n) < 0.4)
    schooling = rng.lognormal(8.0, 0.8, n) * (rng.random(n) < 0.2)
    columns: dict[str, Any] = {
        "household_id": ids,
        "period": np.full(n, _PERIOD, dtype=object),
        "period_end": np.full(n, date(2024, 6, 30)),
        "region_code": np.array(
            [
                f"522799{t:03d}{v:03d}"
                for t, v in zip(rng.integers(1, 20, n), rng.integers(1, 30, n), strict=True)
            ],
            dtype=object,
        ),
        "head_person_id": np.array(
            [f"P{i * _PERSONS_PER_HOUSEHOLD:08d}" for i in range(n)], dtype=object
        ),
        "member_count": members,
        "members_under_16": children,
        "members_16_59": working,
        "members_60_plus": elderly,
        "head_age": rng.integers(22, 90, n),
        "labour_capacity_count": labour,
        "dependant_count": members - labour,
        "income_wages_pc": wages,
        "income_operating_pc": operating,
        "income_property_pc": np.zeros(n),
        "income_transfers_pc": transfers,
        "income_net_pc": income_pc,
        "income_net_total": income_pc * members,
        "assistance_paid_12m": beneficiary * 3000.0,
        "vehicle_count": vehicles,
        "vehicle_non_exempt_count": vehicles,
        "vehicle_value_total": vehicles * 60000.0,
        "property_count": 1 + (rng.random(n) < 0.05),
        "property_area_total": rng.uniform(40, 200, n),
        "property_purchased_12m": (rng.random(n) < 0.01).astype(np.int64),
        "business_count": (rng.random(n) < 0.03).astype(np.int64),
        "business_capital_total": rng.uniform(0, 200000, n),
        "deposits_total": deposits,
        "securities_total": np.zeros(n),
        "provident_fund_contributions_12m": np.zeros(n),
        "financial_assets_pc": deposits / members,
        "medical_oop_12m": medical,
        "medical_oop_inpatient_12m": medical * 0.7,
        "medical_oop_outpatient_month": medical * 0.02,
        "schooling_cost_12m": schooling,
        "schooling_cost_noncompulsory_12m": schooling * 0.5,
        "is_dibao": beneficiary,
        "is_tekun": np.zeros(n, dtype=bool),
        "dibao_since": np.full(n, date(2022, 1, 1)),
        "disabled_count": rng.binomial(members, 0.05),
        "severe_disabled_count": rng.binomial(members, 0.02),
        "serious_illness_count": rng.binomial(members, 0.03),
        "chronic_illness_count": rng.binomial(members, 0.1),
        "students_compulsory": children,
        "students_high_school": np.zeros(n, dtype=np.int64),
        "students_tertiary": np.zeros(n, dtype=np.int64),
        "house_unsafe": rng.random(n) < 0.01,
        "water_unsafe": rng.random(n) < 0.01,
        "disaster_affected_12m": rng.random(n) < 0.02,
        "disaster_loss_12m": np.zeros(n),
        "public_payroll_count": payroll,
        "payments_after_death_count": (fault & (rng.random(n) < 0.2)).astype(np.int64),
        "payments_after_death_amount": np.zeros(n),
        "is_left_poverty": rng.random(n) < 0.2,
        "registry_status": rng.choice(
            ["ordinary", "exited_poverty", "monitored"], n, p=[0.75, 0.2, 0.05]
        ),
        "monitoring_type": np.full(n, None, dtype=object),
        "monitoring_since": np.full(n, None, dtype=object),
        "risk_eliminated_date": np.full(n, None, dtype=object),
        "times_monitored": np.zeros(n, dtype=np.int64),
        "income_net_pc_last_year": income_pc * rng.uniform(0.8, 1.2, n),
        "income_change_yoy": rng.uniform(-0.5, 0.5, n),
        "labourer_shock_12m": rng.random(n) < 0.02,
        "job_loss_12m": rng.random(n) < 0.03,
        "last_shock_date": np.full(n, None, dtype=object),
        "months_since_last_shock": np.full(n, None, dtype=object),
        "evidence": np.array(
            [f'{{"income_wages_pc": ["emp:{i}:1"]}}' for i in range(n)], dtype=object
        ),
    }
    schema = panel_schema().to_pyarrow()
    arrays = []
    for field in schema:
        if field.name not in columns:
            # A column the programs do not read (added to the panel since): left NULL.
            arrays.append(pa.nulls(n, type=field.type))
            continue
        values = columns[field.name]
        if field.name in ("income_net_pc", "vehicle_non_exempt_count"):
            arrays.append(_maybe_null(rng, values, 0.01).cast(field.type))
        else:
            arrays.append(pa.array(values, type=field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def _registry(households: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """persons, household_membership and the registration feed (1% registered dead)."""
    persons = households * _PERSONS_PER_HOUSEHOLD
    person_ids = [f"P{i:08d}" for i in range(persons)]
    # Unique 18-character numbers (the lookups do not check the MOD 11-2 character).
    id_numbers = [f"522727{1950 + i % 50}{i:08d}" for i in range(persons)]
    household_ids = [f"H{i // _PERSONS_PER_HOUSEHOLD:07d}" for i in range(persons)]
    dead = [i % 100 == 7 for i in range(persons)]
    return (
        pa.table({"person_id": person_ids, "id_number": id_numbers}),
        pa.table(
            {
                "period": [_PERIOD] * persons,
                "household_id": household_ids,
                "person_id": person_ids,
                "relation_to_head": ["member"] * persons,
            }
        ),
        pa.table(
            {
                "id_number": id_numbers,
                "registration_status": ["deceased" if d else "normal" for d in dead],
                "status_date": pa.array(
                    [date(2024, 3, 1) if d else None for d in dead], type=pa.date32()
                ),
                "_is_current": [True] * persons,
            }
        ),
    )


def run(size: str, workdir: Path) -> dict[str, object]:
    households = _HOUSEHOLDS[size]
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    panel_data = synthetic_panel(households)
    registry_households = min(households, 1_000_000 // _PERSONS_PER_HOUSEHOLD + 1)
    persons, membership, registration = _registry(registry_households)
    backend = open_duckdb(str(workdir / "warehouse.duckdb"), threads=2, memory_limit=_MEMORY)
    backend.create_table("household_period", panel_data, overwrite=True)
    backend.create_table("persons", persons, overwrite=True)
    backend.create_table("household_membership", membership, overwrite=True)
    backend.create_table("staging_household_registration", registration, overwrite=True)
    del registration
    # The linkage and ingestion ledgers every workspace has: the prepared member lookup
    # records their newest entries to know when it is out of date.
    backend.create_table("link_runs", pa.table({"run_id": ["bench"]}), overwrite=True)
    backend.create_table("ingest_batches", pa.table({"batch_seq": [1]}), overwrite=True)
    generate_seconds = time.perf_counter() - started
    del panel_data

    policy_set = load_policy_set()
    params = dict(policy_set.resolve_parameters(province="52", year=2024))
    panel = backend.table("household_period")
    # CPU seconds (this process, DuckDB's threads included) next to wall seconds: the machine
    # is shared, and wall time alone mostly measures the neighbours.
    started, cpu = time.perf_counter(), time.process_time()
    results = verify_programs(panel, policy_set, params=params, period=_PERIOD)
    backend.create_table("verify_results", results, overwrite=True)
    verify_seconds = time.perf_counter() - started
    verify_cpu = time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    with streaming_memory(backend, configured=_MEMORY):  # as `dixian verify` runs it
        leads = find_problem_leads(
            panel, policy_set, params=params, period=_PERIOD, backend=backend
        )
    leads_seconds = time.perf_counter() - started
    leads_cpu = time.process_time() - cpu
    rows = backend.table("verify_results").count().execute()

    started = time.perf_counter()
    prepared = prepare_lookups(backend)  # what `dixian verify` leaves behind for applications
    index_seconds = time.perf_counter() - started
    rng = np.random.default_rng(5)
    timings, cpu_timings = [], []
    id_lookup = persons.column("id_number").to_pylist()
    params_for_year = params_function(policy_set, "52")
    # As `dixian verify --application` runs: DuckDB on the calling thread only.
    with single_threaded(backend):
        for index in range(_APPLICATIONS[size]):
            household = int(rng.integers(0, registry_households - 1))
            members = [
                {"id_number": id_lookup[household * _PERSONS_PER_HOUSEHOLD + k]} for k in range(2)
            ]
            declaration = Declaration.model_validate(
                {
                    "application_id": f"A{index}",
                    "members": members,
                    "income": {"wages": 8000, "operating": 2000, "property": 0, "transfers": 3000},
                    "assets": {"vehicles": 0, "deposits": 5000},
                }
            )
            tick, cpu = time.perf_counter(), time.process_time()
            verify_application(
                declaration,
                policy_set=policy_set,
                params_for_year=params_for_year,
                backend=backend,
            )
            timings.append((time.perf_counter() - tick) * 1000)
            cpu_timings.append((time.process_time() - cpu) * 1000)
    warm = timings[3:] if len(timings) > 10 else timings
    warm_cpu = cpu_timings[3:] if len(cpu_timings) > 10 else cpu_timings
    backend.disconnect()
    return {
        "households": households,
        "programs": len(policy_set.programs),
        "result_rows": int(rows),
        "problem_leads": len(leads),
        "generate_seconds": round(generate_seconds, 2),
        "batch_verify_seconds": round(verify_seconds, 2),
        "problem_leads_seconds": round(leads_seconds, 2),
        "batch_total_seconds": round(verify_seconds + leads_seconds, 2),
        "batch_verify_cpu_seconds": round(verify_cpu, 2),
        "problem_leads_cpu_seconds": round(leads_cpu, 2),
        "lookup_index_seconds": round(index_seconds, 2),
        "member_lookup_prepared": "verify_member_lookup" in prepared,
        "application_count": len(warm),
        "application_ms_p50": round(statistics.median(warm), 1),
        "application_ms_p95": round(float(np.percentile(warm, 95)), 1),
        "application_cpu_ms_p50": round(statistics.median(warm_cpu), 1),
        "application_cpu_ms_p95": round(float(np.percentile(warm_cpu, 95)), 1),
        "registry_persons": registry_households * _PERSONS_PER_HOUSEHOLD,
        # The machine is shared: wall times scale with the load, CPU times do not.
        "load_average_1min_start_end": [round(load_start, 1), round(os.getloadavg()[0], 1)],
    }
