"""Ingestion of every department feed of a simulated county: time, peak memory, throughput.

`dixian simulate` writes the feeds (not timed: the simulator has its own benchmark), then
`ingest_feeds` runs in a child process, so its wall time and peak RSS are its own. Target
(issue 4): 1,000,000 persons × 3 years within 5 minutes and 4 GiB on 2 cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"persons": 300, "years": 1},
    "small": {"persons": 100_000, "years": 3},
    "full": {"persons": 1_000_000, "years": 3},
}
_CLI = Path(sys.executable).parent / "dixian"


def _ingest_in_child(workspace: Path) -> dict[str, Any]:
    # Its own process: wall time, CPU time (with the reading workers) and peak RSS are its own.
    code = (
        "import json, resource, time\n"
        "from pathlib import Path\n"
        "from dixian.config import Workspace\n"
        "from dixian.ingest import ingest_feeds\n"
        "t = time.perf_counter()\n"
        f"result = ingest_feeds(Workspace.open(Path({str(workspace)!r})))\n"
        "me = resource.getrusage(resource.RUSAGE_SELF)\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "out = dict(result.figures(), wall=time.perf_counter() - t,"
        " cpu=me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,"
        " peak_rss_mib=me.ru_maxrss / 1024, worker_peak_rss_mib=kids.ru_maxrss / 1024)\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(size: str, workdir: Path) -> dict[str, Any]:
    """Simulate a county of the given size, then time its ingestion."""
    chosen = SIZES[size]
    workspace = workdir / "ws"
    subprocess.run(
        [str(_CLI), "init", "--workspace", str(workspace), "--json"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [str(_CLI), "simulate", "--workspace", str(workspace), "--persons",
         str(chosen["persons"]), "--years", str(chosen["years"]), "--noise", "messy", "--json"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    feeds = [p for p in (workspace / "feeds").rglob("*") if p.is_file()]
    figures = _ingest_in_child(workspace)
    wall = figures["wall"]
    return {
        "persons": chosen["persons"],
        "years": chosen["years"],
        "noise": "messy",
        "feed_files": len(feeds),
        "feed_mib": round(sum(p.stat().st_size for p in feeds) / 2**20, 1),
        "rows_read": figures["rows_read"],
        "rows_accepted": figures["rows_accepted"],
        "rows_quarantined": figures["rows_quarantined"],
        "reconciled": figures["reconciled"],
        "ingest_seconds": round(wall, 1),
        "ingest_cpu_seconds": round(figures["cpu"], 1),
        "rows_per_second": round(figures["rows_read"] / wall) if wall else None,
        "ingest_peak_rss_mib": round(figures["peak_rss_mib"], 1),
        "reader_peak_rss_mib": round(figures["worker_peak_rss_mib"], 1),
        "target_seconds": 300,
        "target_peak_rss_mib": 4096,
    }
