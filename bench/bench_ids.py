"""Resident ID validation rate: Arrow/NumPy (`validate_id_numbers`) and in-engine on DuckDB.

Input: N numbers made with `make_id_number`, of which about 3% are corrupted the way feeds
are (one digit substituted, two adjacent digits swapped, lower-case x, 15-digit form,
full-width digits, spaces). Sizes: tiny 10k, small 1M, full 10M (the DuckDB path is timed
on at most 2M rows at full size: it is the slower path and the rate is what matters).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

SIZES = {"tiny": 10_000, "small": 1_000_000, "full": 10_000_000}
_DUCKDB_MAX_ROWS = 2_000_000
_TODAY = date(2026, 6, 30)


def _make_numbers(count: int, seed: int = 7) -> pa.StringArray:
    from dixian.ids import make_id_number

    rng = np.random.default_rng(seed)
    # A pool of distinct valid numbers, repeated: building 10M numbers in Python one by one
    # would take longer than checking them.
    pool_size = min(count, 200_000)
    regions = rng.choice(["522799", "522701", "110105", "440305", "510104"], pool_size)
    days = rng.integers(0, 33_000, pool_size)  # born 1930..2020
    sequences = rng.integers(0, 1000, pool_size)
    pool = [
        make_id_number(str(region), date(1930, 1, 1) + timedelta(days=int(day)), int(seq))
        for region, day, seq in zip(regions, days, sequences, strict=True)
    ]
    noisy = []
    for number in pool[: pool_size // 33]:
        kind = rng.integers(0, 6)
        position = int(rng.integers(0, 16))
        if kind == 0:
            noisy.append(
                number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1 :]
            )
        elif kind == 1:
            noisy.append(
                number[:position] + number[position + 1] + number[position] + number[position + 2 :]
            )
        elif kind == 2:
            noisy.append(number.lower())
        elif kind == 3:
            noisy.append(number[:6] + number[8:17])
        elif kind == 4:
            noisy.append(number.translate(str.maketrans("0123456789", "０１２３４５６７８９")))
        else:
            noisy.append(f"{number[:6]} {number[6:14]} {number[14:]}")
    pool[: len(noisy)] = noisy
    indices = rng.integers(0, pool_size, count)
    return pa.array(pool, type=pa.string()).take(pa.array(indices))


def run(size: str, workdir: Path) -> dict[str, object]:
    """Validate N numbers with Arrow/NumPy and (up to 2M) inside DuckDB; report the rates."""
    from dixian.engine import open_duckdb
    from dixian.ids import ibis_check_id_numbers, validate_id_numbers

    count = SIZES[size]
    started = time.perf_counter()
    numbers = _make_numbers(count)
    generate_seconds = time.perf_counter() - started

    # CPU seconds as well as wall seconds: the machine is shared, and CPU time is what a
    # quiet machine would take (the Arrow path runs on one thread).
    started, cpu_started = time.perf_counter(), time.process_time()
    checked = validate_id_numbers(numbers, today=_TODAY)
    arrow_seconds = time.perf_counter() - started
    arrow_cpu_seconds = time.process_time() - cpu_started
    valid = int(np.count_nonzero(checked.column("valid").to_numpy(zero_copy_only=False)))

    duck_rows = min(count, _DUCKDB_MAX_ROWS)
    backend = open_duckdb(str(workdir / "bench_ids.duckdb"), threads=2, memory_limit="4GB")
    table = backend.create_table("ids", pa.table({"id_number": numbers.slice(0, duck_rows)}))
    expression = ibis_check_id_numbers(table, "id_number", today=_TODAY, prefix="id_")
    started, cpu_started = time.perf_counter(), time.process_time()
    duck_valid = backend.execute(expression.aggregate(valid=expression.id_valid.sum()))
    duck_seconds = time.perf_counter() - started
    duck_cpu_seconds = time.process_time() - cpu_started
    duck_valid_count = int(duck_valid["valid"].iloc[0])
    arrow_valid_prefix = int(
        np.count_nonzero(checked.column("valid").slice(0, duck_rows).to_numpy(zero_copy_only=False))
    )
    return {
        "rows": count,
        "valid_rows": valid,
        "generate_seconds": round(generate_seconds, 2),
        "arrow_seconds": round(arrow_seconds, 3),
        "arrow_rows_per_second": round(count / arrow_seconds),
        "arrow_cpu_seconds": round(arrow_cpu_seconds, 3),
        "arrow_rows_per_cpu_second": round(count / arrow_cpu_seconds),
        "duckdb_rows": duck_rows,
        "duckdb_seconds": round(duck_seconds, 3),
        "duckdb_rows_per_second": round(duck_rows / duck_seconds),
        "duckdb_cpu_seconds": round(duck_cpu_seconds, 3),
        "duckdb_rows_per_cpu_second": round(duck_rows / duck_cpu_seconds),
        "duckdb_agrees_with_arrow": duck_valid_count == arrow_valid_prefix,
    }
