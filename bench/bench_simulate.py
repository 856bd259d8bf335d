"""Benchmark of `dixian simulate`: a county of N persons x 3 years into a fresh workspace.

Sizes: tiny 2,000 persons x 1 year (runs in the test suite), small 100,000 x 3, full
1,000,000 x 3 (the target: <= 10 minutes and <= 8 GiB peak on 2 cores). Peak memory is the
process's maximum resident set size; record the figures with `/usr/bin/time -v` as well.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from dixian.config import init_workspace
from dixian.simulate import PlantingRates, noise_profile, params_for_county_type, simulate

SIZES = {"tiny": (2_000, 1), "small": (100_000, 3), "full": (1_000_000, 3)}


def run(size: str, workdir: Path) -> dict[str, object]:
    """Simulate a county at the given size and return its figures."""
    persons, years = SIZES[size]
    workspace = init_workspace(workdir / "ws", province="52", county="522799", name="bench")
    started = time.perf_counter()
    result = simulate(
        workspace,
        persons=persons,
        years=years,
        seed=1,
        start_year=2021,
        params=params_for_county_type("poor_western"),
        noise=noise_profile("default"),
        planting=PlantingRates(),
    )
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    feed_bytes = sum(p.stat().st_size for p in workspace.feeds_dir.rglob("*") if p.is_file())
    return {
        "persons": persons,
        "years": years,
        "households": result.households,
        "villages": result.villages,
        "feed_files": result.feed_files,
        "feed_rows": result.feed_rows,
        "feed_mib": round(feed_bytes / 2**20, 1),
        "seconds": round(seconds, 1),
        # CPU time tells the cost when the machine is shared (wall time depends on the load).
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "seconds_by_phase": result.seconds,
        "rows_per_second": round(result.feed_rows / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "within_target": size != "full" or (seconds <= 600),
    }
