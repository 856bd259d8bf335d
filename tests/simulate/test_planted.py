"""Planted ineligibility: recorded in the truth and visible in the department feeds."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.simulate.conftest import simulate_into

_SHOWN_IN = {
    "owns_car": "vehicles",
    "buys_house": "real_estate",
    "registers_business": "business_registration",
    "public_employee": "public_payroll",
}


def test_planted_patterns_are_in_the_truth_and_in_the_feeds(tmp_path: Path) -> None:
    rates = [f"{pattern}=0.5" for pattern in _SHOWN_IN] + ["paid_after_death=1.0"]
    args = [arg for rate in rates for arg in ("--plant-rate", rate)]
    ws = simulate_into(tmp_path / "ws", "--persons", "1500", "--years", "2", *args)
    truth = ws.truth_dir
    con = duckdb.connect()
    planted = con.sql(
        f"select pattern, true_person_id from '{truth / 'planted_ineligibility.parquet'}'"
    ).fetchall()
    patterns = {p for p, _ in planted}
    assert set(_SHOWN_IN) <= patterns
    for pattern, dataset in _SHOWN_IN.items():
        shown = con.sql(
            f"""
            select count(*) from '{truth / "planted_ineligibility.parquet"}' p
            join '{truth / "feed_rows.parquet"}' f using (true_person_id)
            where p.pattern = '{pattern}' and f.dataset = '{dataset}'
            """
        ).fetchone()
        assert shown is not None and shown[0] > 0, pattern
    if "paid_after_death" in patterns:
        paid = con.sql(
            f"""
            select count(*) from '{truth / "planted_ineligibility.parquet"}' p
            join '{truth / "feed_rows.parquet"}' f using (true_person_id)
            join '{truth / "persons.parquet"}' d using (true_person_id)
            where p.pattern = 'paid_after_death' and f.dataset = 'civil_affairs_assistance'
              and f.source_file > 'civil_affairs/civil_affairs_assistance/'
                  || strftime(d.death_date, '%Y-%m')
            """
        ).fetchone()
        assert paid is not None and paid[0] > 0
