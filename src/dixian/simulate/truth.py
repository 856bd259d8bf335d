"""The ground truth, kept apart in W/truth/ (Parquet) for evaluation only.

No pipeline module may read these files; only `dixian evaluate ...` and tests do (a test
scans `src/dixian` imports). Person and household ids here are the simulator's true ids
(`true_person_id`, `true_household_id`), which the pipeline never sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dixian.simulate.official import TYPES
from dixian.simulate.params import MONITORING_LINE, year_value
from dixian.simulate.population import EDUCATION_NAMES, RELATION_NAMES
from dixian.simulate.state import MONTHLY_SERIES, WorldState, month_of

TRUTH_FILES = (
    "persons",
    "households",
    "villages",
    "household_membership",
    "household_income_monthly",
    "shocks",
    "monitoring_status",
    "process_events",
    "planted_ineligibility",
    "outcomes",
    "feed_rows",
)
_STATUS = np.array(["none", "monitored", "risk_eliminated", "long_term_protection"])


def write_parquet(table: pa.Table, path: Path) -> None:
    """Parquet with fixed options so the same table gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", compression_level=1, write_statistics=False)


def _periods(state: WorldState, months: np.ndarray) -> pa.Array:
    labels = pa.array([month_of(state.start, m).period for m in range(state.months)])
    return labels.take(pa.array(np.asarray(months, dtype=np.int64)))


def _ids(rows: np.ndarray) -> pa.Array:
    rows = np.asarray(rows, dtype=np.int64)
    return pa.array(np.where(rows >= 0, rows + 1, 0), mask=rows < 0, type=pa.int64())


def _write_chunks(path: Path, chunks: Iterator[pa.Table]) -> int:
    """Stream tables into one Parquet file (bounded memory, deterministic row groups)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    rows = 0
    for chunk in chunks:
        if writer is None:
            writer = pq.ParquetWriter(
                path,
                chunk.schema,
                compression="zstd",
                compression_level=1,
                write_statistics=False,
            )
        writer.write_table(chunk)
        rows += chunk.num_rows
    if writer is not None:
        writer.close()
    return rows


def write_truth(state: WorldState, *, years: int, truth_dir: Path) -> dict[str, int]:
    """Write every truth table; returns rows per table."""
    counts: dict[str, int] = {}
    visible = 12 * years
    p = state.persons
    n = state.n_persons
    tables: dict[str, pa.Table] = {}
    tables["persons"] = pa.table(
        {
            "true_person_id": _ids(np.arange(n)),
            "id_number": pa.array(p["id_number"][:n].astype(str)),
            "name": pa.array(p["name"][:n].astype(str)),
            "surname": pa.array(p["surname"][:n].astype(str)),
            "sex": pa.array(np.where(p["male"][:n], "M", "F")),
            "birth_date": pa.array(p["birth"][:n]),
            "death_date": pa.array(p["death"][:n], mask=np.isnat(p["death"][:n])),
            "education": pa.array(EDUCATION_NAMES[p["education"][:n]]),
            "disability_type": pa.array(p["disability_type"][:n].astype(np.int64)),
            "disability_grade": pa.array(p["disability_grade"][:n].astype(np.int64)),
            "chronic_illness": pa.array(p["chronic"][:n]),
            "public_employee": pa.array(p["public_employee"][:n]),
        }
    )
    h = state.households
    n_h = state.n_households
    tables["households"] = pa.table(
        {
            "true_household_id": _ids(np.arange(n_h)),
            "region_code": pa.array(state.geography.village_code[h["village"][:n_h]]),
            "formerly_poor": pa.array(h["formerly_poor"][:n_h]),
            "exit_year": pa.array(h["exit_year"][:n_h].astype(np.int64)),
            "split_from": _ids(h["split_from"][:n_h] - 1),
            "created": pa.array(h["created"][:n_h]),
            "land_mu": pa.array(h["land_mu"][:n_h]),
        }
    )
    tables["villages"] = state.geography.villages_table()
    counts["household_membership"] = _write_chunks(
        truth_dir / "household_membership.parquet", _membership_chunks(state, visible)
    )
    counts["household_income_monthly"] = _write_chunks(
        truth_dir / "household_income_monthly.parquet", _income_chunks(state, visible)
    )
    shocks = state.log_table("shock")
    if shocks is not None:
        tables["shocks"] = pa.table(
            {
                "true_household_id": _ids(shocks["household"].to_numpy()),
                "true_person_id": _ids(shocks["person"].to_numpy()),
                "date": shocks["date"],
                "kind": shocks["kind"],
                "cause": shocks["cause"],
                "amount": shocks["amount"],
            }
        )
    status = state.log_table("status")
    assert status is not None
    tables["monitoring_status"] = pa.table(
        {
            "period": _periods(state, status["month"].to_numpy()),
            "true_household_id": _ids(status["household"].to_numpy()),
            "status": pa.array(_STATUS[status["mon_state"].to_numpy()]),
            "monitoring_type": pa.array(TYPES[status["mon_type"].to_numpy()]),
            "dibao_or_tekun": status["dibao"],
        }
    )
    process = state.log_table("process")
    if process is not None:
        tables["process_events"] = pa.table(
            {
                "true_household_id": _ids(process["household"].to_numpy()),
                "date": process["date"],
                "event": process["event"],
                "detail": process["detail"],
            }
        )
    planted = state.log_table("planted")
    if planted is not None:
        # Only what the feeds can show: planted before the hidden year, and payments after a
        # death that fall in a visible month.
        end = month_of(state.start, visible).start
        dates = planted["date"].to_numpy()
        after_death = planted["pattern"].to_numpy(zero_copy_only=False) == "paid_after_death"
        next_month = (dates.astype("datetime64[M]") + 1).astype("datetime64[D]")
        planted = planted.filter(pa.array(np.where(after_death, next_month < end, dates < end)))

        tables["planted_ineligibility"] = pa.table(
            {
                "true_household_id": _ids(planted["household"].to_numpy()),
                "true_person_id": _ids(planted["person"].to_numpy()),
                "pattern": planted["pattern"],
                "date": planted["date"],
            }
        )
    tables["outcomes"] = outcomes_table(state, years=years)
    for name, table in tables.items():
        write_parquet(table, truth_dir / f"{name}.parquet")
        counts[name] = int(table.num_rows)
    return counts


def membership_of_month(state: WorldState, month: int) -> dict[str, np.ndarray]:
    """The living persons at the end of a month: person, household and relation rows."""
    chunk = state.logs["membership"][month]
    assert int(chunk["month"][0]) == month
    return chunk


def _membership_chunks(state: WorldState, visible: int) -> Iterator[pa.Table]:
    relations = pa.array(RELATION_NAMES)
    for month in range(visible):
        chunk = membership_of_month(state, month)
        n = chunk["person"].size
        yield pa.table(
            {
                "period": _periods(state, np.full(n, month)),
                "true_household_id": _ids(chunk["household"]),
                "true_person_id": _ids(chunk["person"]),
                "relation_to_head": relations.take(pa.array(chunk["relation"].astype(np.int64))),
            }
        )


def _income_chunks(state: WorldState, visible: int) -> Iterator[pa.Table]:
    n_h = state.n_households
    for month in range(state.months):
        members = np.bincount(membership_of_month(state, month)["household"], minlength=n_h)
        live = np.flatnonzero(members > 0)
        columns = {
            "period": _periods(state, np.full(live.size, month)),
            "true_household_id": _ids(live),
            "members": pa.array(members[live].astype(np.int64)),
            "visible": pa.array(np.full(live.size, month < visible)),
        }
        for name in MONTHLY_SERIES:
            columns[name] = pa.array(
                np.round(state.series[name][month, live].astype(np.float64), 2)
            )
        yield pa.table(columns)


def yearly_income(state: WorldState) -> tuple[np.ndarray, np.ndarray]:
    """Per-capita income (excl. 低保/特困) per year and household, and members at year end."""
    n_h = state.n_households
    years = state.months // 12
    income = np.zeros((years, n_h))
    members = np.zeros((years, n_h))
    for y in range(years):
        sl = slice(12 * y, 12 * y + 12)
        income[y] = sum(
            state.series[k][sl, :n_h].sum(axis=0, dtype=np.float64)
            for k in ("wages", "business", "property", "transfers")
        )
        members[y] = np.bincount(
            membership_of_month(state, 12 * y + 11)["household"], minlength=n_h
        )
    pc = np.divide(income, members, out=np.full_like(income, np.nan), where=members > 0)
    return pc, members


def outcomes_table(state: WorldState, *, years: int) -> pa.Table:
    """Per household and visible year: income, below-line, and the following year's outcome."""
    pc, members = yearly_income(state)
    start_year = int(state.start.astype("datetime64[Y]").astype(int)) + 1970
    status = state.log_table("status")
    assert status is not None
    n_h = state.n_households
    monitored = np.zeros((state.months // 12, n_h), dtype=bool)
    sm = status["month"].to_numpy()
    mon = np.isin(status["mon_state"].to_numpy(), (1, 3))
    np.logical_or.at(monitored, (sm // 12, status["household"].to_numpy()), mon)
    rows = []
    for y in range(years):
        line = year_value(MONITORING_LINE, start_year + y)
        next_line = year_value(MONITORING_LINE, start_year + y + 1)
        live = members[y] > 0
        idx = np.flatnonzero(live)
        rows.append(
            pa.table(
                {
                    "year": pa.array(np.full(idx.size, start_year + y)),
                    "true_household_id": _ids(idx),
                    "income_pc": pa.array(np.round(pc[y, idx], 2)),
                    "below_line": pa.array(pc[y, idx] < line),
                    "monitored": pa.array(monitored[y, idx]),
                    "next_income_pc": pa.array(
                        np.round(pc[y + 1, idx], 2), mask=np.isnan(pc[y + 1, idx])
                    ),
                    "next_below_line": pa.array(pc[y + 1, idx] < next_line),
                    "next_monitored": pa.array(monitored[y + 1, idx]),
                    "next_newly_below_line": pa.array(
                        (pc[y + 1, idx] < next_line) & ~(pc[y, idx] < line)
                    ),
                }
            )
        )
    return pa.concat_tables(rows)
