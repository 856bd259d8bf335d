"""Run benchmarks: `python -m bench [NAME ...] [--size tiny|full]`.

Each benchmark is a module `bench/bench_<name>.py` with a function
`run(size: str, workdir: pathlib.Path) -> dict` that does the work at that size and returns
its figures (seconds, peak memory, throughput, accuracy...). Results are printed as JSON and
appended to `bench/out/results.jsonl`; record the ones you quote in `bench/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).parent


def available() -> list[str]:
    """Names of the benchmark modules present, in a stable order."""
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(BENCH_DIR)])
        if info.name.startswith("bench_")
    )


def run_one(name: str, size: str, workdir: Path) -> dict[str, object]:
    module = importlib.import_module(f"bench.bench_{name}")
    started = time.perf_counter()
    figures = module.run(size, workdir)
    return {
        "benchmark": name,
        "size": size,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={_cpus()}".strip(),
        "wall_seconds_total": round(time.perf_counter() - started, 2),
        "peak_rss_mib_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **figures,
    }


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks (default: all): {available()}")
    parser.add_argument("--size", default="full", choices=["tiny", "small", "full"])
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available()}")
    out_dir = BENCH_DIR / "out"
    out_dir.mkdir(exist_ok=True)
    for name in names:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            print(f"== bench {name} ({args.size})", file=sys.stderr, flush=True)
            result = run_one(name, args.size, Path(tmp))
        line = json.dumps(result, ensure_ascii=False, default=str)
        print(line, flush=True)
        with (out_dir / "results.jsonl").open("a", encoding="utf-8") as sink:
            sink.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
