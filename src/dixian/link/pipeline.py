"""`dixian link`: one person_id per person across every department's staging table.

The run, on identity profiles (see `dixian.link.records`):

1. **Deterministic.** A profile whose ID number is valid and agrees with its own birth
   date and sex belongs to the person of that ID number (`match_method = 'id'`).
2. **ID repair.** A profile whose 18-character ID fails its check is repaired when exactly
   one of its repair candidates (`dixian.ids.repair_candidates`) is a known person whose
   name agrees (and birth date, when the profile has one) (`'id_repaired'`).
3. **Record context.** A profile with neither ID number nor birth date joins the one
   namesake its own department's other rows point to (`dixian.link.context`,
   `'context'`).
4. **Probabilistic.** The rest are compared with Splink against one representative per
   known person and against each other (never person against person), then clustered
   under the constraint that two known persons never merge (`'probabilistic'`, or
   `'reviewed'` where a reviewer's decision decided). Pairs between the reject and accept
   thresholds go to `link_review_queue` with their evidence.

Incremental by default: profiles linked by an earlier run keep their person; only new
profiles (and those touched by a new reviewer decision) are linked, with the saved model.
`full=True` re-links everything (same workspace secret, so the same person ids).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.errors import UserError
from dixian.link.context import (
    CONTEXT_FILE,
    choose_context_fields,
    context_links,
    household_context,
    load_context_fields,
    save_context_fields,
    weak_profiles,
)
from dixian.link.identity import repair_ids, workspace_secret
from dixian.link.kinship import household_links
from dixian.link.ledger import (
    PERSONS_SQL,
    UNDECIDED_SQL,
    count,
    decide,
    deterministic_links,
    keep_previous,
    load_profiles,
    open_local,
)
from dixian.link.probabilistic import ProbabilisticStep, RunParams, probabilistic_links
from dixian.link.records import distinct_profiles, person_records
from dixian.link.review import load_review_queue, merge_review_queue
from dixian.link.settings import LinkSettings, load_link_settings
from dixian.link.store import (
    ID_REPAIRS,
    LINK_PROFILES,
    LINK_RUNS,
    PERSONS,
    REVIEW_QUEUE,
    read_table_or_none,
    write_person_link,
    write_table,
)

Progress = Callable[[str], None]


@dataclass
class LinkRun:
    """Figures of one `dixian link` run."""

    run_id: str
    mode: str
    figures: dict[str, Any] = field(default_factory=dict)


def link_workspace(
    workspace: Workspace,
    *,
    full: bool = False,
    settings: LinkSettings | None = None,
    progress: Progress | None = None,
) -> LinkRun:
    """Link every current staging record to a person; write the link tables.

    Args:
        workspace: the workspace (its engine runs Splink).
        full: re-link everything instead of only new profiles.
        settings: linkage settings (default: `W/link.yaml` or the defaults).
        progress: called with a short description at each step.

    Returns:
        The run's id, mode and figures.

    Raises:
        UserError: there are no staging tables to link.
    """
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    settings = settings or load_link_settings(workspace.root)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    secret = workspace_secret(workspace)
    backend = open_backend(workspace)
    # Incremental runs keep the context fields of the run that keyed the profiles.
    fields_path = workspace.artifacts_dir / "link" / CONTEXT_FILE
    context_fields = None if full else load_context_fields(fields_path)
    if context_fields is None:
        say("选择记录上下文字段 choosing record context fields")
        context_fields = choose_context_fields(
            backend,
            stability=settings.context_stability,
            min_persons=settings.context_min_persons,
        )
        save_context_fields(fields_path, context_fields)
    records = person_records(backend, context_fields=context_fields)
    if records is None:
        raise UserError(
            f"{workspace.warehouse_path}: no staging tables to link (run 'dixian ingest' first)"
        )
    say("读取身份档案 reading identity profiles")
    engine = workspace.config.engine
    spill_dir = workspace.artifacts_dir / "link" / "spill"
    con = open_local(
        spill_dir,
        threads=engine.threads,
        memory_limit=engine.memory_limit,
    )
    n_profiles = load_profiles(con, distinct_profiles(records), secret=secret)
    previous = None if full else _previous_links(backend)
    queue = load_review_queue(backend)
    mode = "full" if previous is None else "incremental"

    # Reviewer decisions not yet applied reopen the profiles they concern.
    reopened: set[str] = set()
    must_link: list[tuple[str, str]] = []
    cannot_link: list[tuple[str, str]] = []
    if queue is not None:
        for item in queue.to_pylist():
            if item["status"] == "match":
                must_link.append((item["left_node"], item["right_node"]))
            elif item["status"] == "non_match":
                cannot_link.append((item["left_node"], item["right_node"]))
            else:
                continue
            if not item["applied"] or full:
                for node in (item["left_node"], item["right_node"]):
                    if node.startswith("R:"):
                        reopened.add(node[2:])
    keep_previous(con, previous, reopened=reopened)
    del previous
    n_new = n_profiles - count(con, "select count(*) from decided")

    say("身份证号确定性匹配 deterministic ID links")
    counts = {
        "id": deterministic_links(con, secret=secret),
        "id_repaired": 0,
        "context": 0,
        "probabilistic": 0,
        "reviewed": 0,
        "new_person": 0,
    }

    say("身份证号纠错 repairing ID numbers")
    repairs = repair_ids(con)
    counts["id_repaired"] = decide(con, repairs, method="id_repaired", probability=1.0)
    repairs = repairs.append_column(
        "run_id", pa.array([run_id] * repairs.num_rows, pa.string())
    ).select(_REPAIR_SCHEMA.names)

    say("同一部门记录上下文 linking by record context")
    if weak_profiles(con):
        by_context = context_links(
            records, con, household_datasets=household_context(context_fields)
        )
        counts["context"] += decide(con, by_context, method="context", probability=1.0)
        by_household = household_links(records, con)
        counts["context"] += decide(con, by_household, method="context", probability=1.0)
    con.execute("drop table weak")

    step = ProbabilisticStep()
    n_left = count(con, f"select count(*) from ({UNDECIDED_SQL})")
    if n_left:
        say(f"概率匹配 probabilistic linkage of {n_left:,} profiles")
        step = probabilistic_links(
            con,
            RunParams(
                workspace=workspace, settings=settings, secret=secret, run_id=run_id, full=full
            ),
            n_left=n_left,
            must_link=must_link,
            cannot_link=cannot_link,
            say=say,
        )
        counts.update(step.counts)

    say("写入结果 writing link tables")
    persons = con.sql(PERSONS_SQL).fetch_arrow_table()
    write_table(backend, PERSONS, persons)
    n_persons_all = persons.num_rows
    del persons
    link_profiles = con.sql(
        "select p.profile_key, p.profile_id, d.person_id, d.match_method, d.match_probability "
        "from profiles p join decided d using (profile_id) order by p._pos"
    ).fetch_arrow_table()
    con.close()
    shutil.rmtree(spill_dir, ignore_errors=True)
    write_table(backend, LINK_PROFILES, link_profiles)
    del link_profiles
    write_person_link(backend, records)
    new_queue = merge_review_queue(queue, step.review_items, keep_open=not full)
    write_table(backend, REVIEW_QUEUE, new_queue)
    if repairs.num_rows or read_table_or_none(backend, ID_REPAIRS) is None:
        old = None if full else read_table_or_none(backend, ID_REPAIRS)
        write_table(
            backend, ID_REPAIRS, repairs if old is None else pa.concat_tables([old, repairs])
        )
    figures = {
        "mode": mode,
        "profiles": n_profiles,
        "new_profiles": n_new,
        "persons": n_persons_all,
        "links_by_method": counts,
        "review_queue_open": int(pc.sum(pc.equal(new_queue.column("status"), "open")).as_py() or 0),
        **step.figures,
        "seconds": round(time.perf_counter() - started, 2),
    }
    runs = read_table_or_none(backend, LINK_RUNS)
    run_row = pa.Table.from_pylist(
        [{"run_id": run_id, "mode": mode, "figures": json.dumps(figures, ensure_ascii=False)}],
        schema=_RUN_SCHEMA,
    )
    write_table(backend, LINK_RUNS, run_row if runs is None else pa.concat_tables([runs, run_row]))
    return LinkRun(run_id=run_id, mode=mode, figures=figures)


def _previous_links(backend: Any) -> pa.Table | None:
    """The decisions of the last run (`link_profiles`), without the profile keys."""
    if LINK_PROFILES not in backend.list_tables():
        return None
    table: pa.Table = (
        backend.table(LINK_PROFILES)
        .select("profile_id", "person_id", "match_method", "match_probability")
        .to_pyarrow()
    )
    return table


_REPAIR_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("profile_id", pa.string()),
        ("original_id_number", pa.string()),
        ("repaired_id_number", pa.string()),
        ("person_id", pa.string()),
    ]
)
_RUN_SCHEMA = pa.schema([("run_id", pa.string()), ("mode", pa.string()), ("figures", pa.string())])
