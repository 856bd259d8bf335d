"""Case database throughput on SQLite: recording alerts, transitions, listing, ledger verify.

Sizes (households discovered): tiny 50, small 2,000, full 20,000. Every discovery writes a
household, a case, a discovery and three ledger entries; transitions are timed one
transaction each (as a caseworker clicks), on at most 500 cases.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from pathlib import Path

SIZES = {"tiny": 50, "small": 2_000, "full": 20_000}
_BATCH = 500
_MAX_TRANSITIONS = 500


def run(size: str, workdir: Path) -> dict[str, object]:
    from dixian.cases import Actor, AuditKey, CasesDatabase, Channel, Role, upgrade_database
    from dixian.cases.service import (
        DiscoveryInput,
        count_cases_by_state,
        create_user,
        list_cases,
        record_discoveries,
        transition_case,
        verify_audit_chain,
    )

    count = SIZES[size]
    path = workdir / "bench_cases.sqlite"
    path.unlink(missing_ok=True)
    database = CasesDatabase.open(f"sqlite:///{path}", audit_key=AuditKey(b"b" * 32))
    upgrade_database(database.engine)
    system = Actor.system(name="bench")
    with database.session() as session:
        worker = Actor.from_user(create_user(
            session, actor=system, username="bench", display_name="bench",
            role=Role.VILLAGE_CASEWORKER, jurisdiction="522799",
        ))  # fmt: skip
    villages = [f"522799{101 + t:03d}{201 + v:03d}" for t in range(10) for v in range(20)]
    items = [
        DiscoveryInput(
            household_id=f"H{n:07d}",
            region_code=villages[n % len(villages)],
            period="2025-06",
            channel=Channel.DEPARTMENT_SCREENING,
            discovered_on=date(2025, 6, 5),
            evidence={"trigger": "medical_oop", "amount": 20000 + n},
            risk_score=0.5,
        )
        for n in range(count)
    ]
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, count, _BATCH):
        with database.session() as session:
            record_discoveries(session, actor=system, discoveries=items[start : start + _BATCH])
    record_seconds = time.perf_counter() - started
    record_cpu = time.process_time() - cpu_started

    visit = {
        "visited_on": "2025-06-08", "per_capita_income": 5200, "labour_count": 2,
        "food_clothing_secure": True, "education_secure": True, "medical_secure": False,
        "housing_secure": True, "water_secure": True, "authorisation_signed_on": "2025-06-08",
    }  # fmt: skip
    latencies = []
    for case_id in range(1, min(count, _MAX_TRANSITIONS) + 1):
        began = time.perf_counter()
        with database.session() as session:
            transition_case(session, actor=worker, case_id=case_id, action="record_visit",
                            expected_version=1, payload=visit)  # fmt: skip
        latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    with database.session() as session:
        village_worker = Actor(None, "v", "village_caseworker", villages[0])
        listed = len(list_cases(session, actor=village_worker, limit=1000))
        counts = count_cases_by_state(session, actor=system)
    list_seconds = time.perf_counter() - began

    began, cpu_began = time.perf_counter(), time.process_time()
    with database.session() as session:
        result = verify_audit_chain(session, actor=system)
    verify_seconds = time.perf_counter() - began
    verify_cpu = time.process_time() - cpu_began
    database.dispose()
    latencies.sort()
    return {
        "households": count,
        "discoveries_per_second": round(count / record_seconds, 1),
        "discoveries_per_cpu_second": round(count / record_cpu, 1),
        "transition_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "transition_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 2),
        "transitions_timed": len(latencies),
        "list_village_and_count_ms": round(list_seconds * 1000, 1),
        "village_cases_listed": listed,
        "cases_by_state": counts,
        "ledger_entries": result.entries_checked,
        "ledger_verify_entries_per_second": round(result.entries_checked / verify_seconds),
        "ledger_verify_entries_per_cpu_second": round(result.entries_checked / verify_cpu),
        "ledger_ok": result.ok,
        "database_mib": round(path.stat().st_size / 2**20, 1),
    }
