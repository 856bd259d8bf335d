"""Person linkage on a simulated county: accuracy, time and memory, side by side with a
plain Splink configuration on the same records.

Per noise profile (default, messy): `dixian simulate` + `dixian ingest` (not timed here;
their own benchmarks time them), then `dixian link --full` in a child process (wall time
and peak RSS of that process), `dixian evaluate link`, and the baseline: Splink on every
identity profile with Jaro-Winkler on the raw name, exact birth date, exact ID, no pinyin,
no ID repair, clustered as connected components at 0.95 (Splink's usual recipe), scored on
the same records with the same truth.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"persons": 400, "years": 1, "noises": ["default"]},
    "small": {"persons": 20_000, "years": 2, "noises": ["default", "messy"]},
    "full": {"persons": 1_000_000, "years": 3, "noises": ["default", "messy"]},
}
_CLI = Path(sys.executable).parent / "dixian"


def _run(*args: str) -> dict[str, Any]:
    done = subprocess.run([str(_CLI), *args, "--json"], check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _link_in_child(workspace: Path) -> dict[str, Any]:
    code = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from dixian.config import Workspace\n"
        "from dixian.link.pipeline import link_workspace\n"
        "t = time.perf_counter()\n"
        f"run = link_workspace(Workspace.open(Path({str(workspace)!r})), full=True)\n"
        "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "out = dict(run.figures, wall=time.perf_counter() - t,"
        " cpu=usage.ru_utime + usage.ru_stime, peak_rss_mib=usage.ru_maxrss / 1024)\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _baseline(workspace: Path) -> dict[str, Any]:
    from dixian.config import Workspace
    from dixian.engine import open_backend
    from dixian.link.clustering import cluster_edges
    from dixian.link.context import CONTEXT_FILE, load_context_fields
    from dixian.link.evaluate import evaluate_assignment
    from dixian.link.matcher import Matcher, MatcherOptions
    from dixian.link.prepare import prepare_nodes
    from dixian.link.records import distinct_profiles, person_records

    opened = Workspace.open(workspace)
    started = time.perf_counter()
    backend = open_backend(opened)
    # The same profiles as the link run (its context fields key the records without ID).
    fields = load_context_fields(opened.artifacts_dir / "link" / CONTEXT_FILE)
    profiles = distinct_profiles(person_records(backend, context_fields=fields)).to_pyarrow()
    ids = backend.table("link_profiles").select("profile_key", "profile_id").to_pyarrow()
    id_of = dict(zip(ids.column(0).to_pylist(), ids.column(1).to_pylist(), strict=True))
    node_ids = [id_of[key] for key in profiles.column("profile_key").to_pylist()]
    roles = pa.table(
        {
            "node_id": pa.array(node_ids, pa.string()),
            "source": pa.array(["record"] * profiles.num_rows, pa.string()),
            "name": profiles.column("name"),
            "birth_date": profiles.column("birth_date"),
            "sex": profiles.column("sex"),
            "id_number": profiles.column("id_number"),
            "region_code": profiles.column("region_code"),
            "address": profiles.column("address"),
        }
    )
    nodes = prepare_nodes(roles)
    matcher = Matcher(nodes, options=MatcherOptions(flavour="plain"))
    matcher.train()
    pairs = matcher.predict()
    edges = [
        (a, b, p)
        for a, b, p in zip(
            pairs.column("node_id_l").to_pylist(),
            pairs.column("node_id_r").to_pylist(),
            pairs.column("match_probability").to_pylist(),
            strict=True,
        )
        if p >= 0.95
    ]
    clusters = cluster_edges(node_ids, edges)
    seconds = time.perf_counter() - started
    assignment = pa.table(
        {
            "profile_id": pa.array(list(clusters), pa.string()),
            "person_id": pa.array(list(clusters.values()), pa.string()),
        }
    )
    figures = evaluate_assignment(opened, assignment)
    return {"seconds": round(seconds, 2), "candidate_pairs": pairs.num_rows, **figures}


def run(size: str, workdir: Path) -> dict[str, Any]:
    """Simulate, ingest, link and evaluate per noise profile; figures per profile."""
    spec = SIZES[size]
    results: dict[str, Any] = {"persons": spec["persons"], "years": spec["years"]}
    for noise in spec["noises"]:
        workspace = workdir / f"county-{noise}"
        _run("init", "--workspace", str(workspace), "--province", "52")
        _run(
            "simulate",
            "--workspace",
            str(workspace),
            "--persons",
            str(spec["persons"]),
            "--years",
            str(spec["years"]),
            "--seed",
            "7",
            "--noise",
            noise,
        )
        ingested = _run("ingest", "--workspace", str(workspace))
        linked = _link_in_child(workspace)
        evaluation = _run("evaluate", "link", "--workspace", str(workspace))
        baseline = _baseline(workspace)
        results[noise] = {
            "records": evaluation["records_evaluated"],
            "staged_rows": ingested.get("rows_accepted", ingested.get("accepted")),
            "link_seconds": round(linked["wall"], 2),
            "link_cpu_seconds": round(linked["cpu"], 2),
            "link_peak_rss_mib": round(linked["peak_rss_mib"], 1),
            "profiles": linked["profiles"],
            "persons": linked["persons"],
            "links_by_method": linked["links_by_method"],
            "review_queue_open": linked["review_queue_open"],
            "pairwise": evaluation["pairwise"],
            "bcubed": evaluation["bcubed"],
            "id_repairs": evaluation["id_repairs"],
            "by_noise_recall": {
                name: part["recall"] for name, part in evaluation["by_noise"].items()
            },
            "baseline_plain_splink": {
                "seconds": baseline["seconds"],
                "pairwise": baseline["pairwise"],
                "bcubed": baseline["bcubed"],
            },
            "time_ratio_vs_baseline": round(linked["wall"] / max(baseline["seconds"], 1e-9), 2),
        }
    return results
