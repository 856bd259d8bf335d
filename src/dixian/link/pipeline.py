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
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.errors import UserError
from dixian.link.comparisons import blocking_keys
from dixian.link.context import (
    CONTEXT_FILE,
    choose_context_fields,
    context_links,
    household_context,
    load_context_fields,
    save_context_fields,
    weak_profiles,
)
from dixian.link.identity import person_id_for, repair_ids, workspace_secret
from dixian.link.kinship import household_links
from dixian.link.ledger import (
    LINKED_SQL,
    UNDECIDED_SQL,
    count,
    decide,
    deterministic_links,
    keep_previous,
    load_profiles,
    open_local,
)
from dixian.link.matcher import MatcherOptions, present_roles
from dixian.link.prepare import prepare_nodes, reachable
from dixian.link.records import distinct_profiles, person_records
from dixian.link.resolve import resolve
from dixian.link.review import build_review_items, load_review_queue, merge_review_queue
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

PERSON_FILTER = "not (l.source = 'person' and r.source = 'person')"
Progress = Callable[[str], None]


@dataclass
class LinkRun:
    """Figures of one `dixian link` run."""

    run_id: str
    mode: str
    figures: dict[str, Any] = field(default_factory=dict)


_AGGREGATE_SQL = f"""
select person_id,
       max(id_person) as id_number,
       arg_max(name, n_records) as name,
       arg_max(eff_sex, n_records) filter (where eff_sex is not null) as sex,
       arg_max(eff_birth, n_records) filter (where eff_birth is not null) as birth_date,
       arg_max(region_code, n_records) filter (where region_code is not null) as region_code,
       arg_max(address, n_records) filter (where address is not null) as address,
       sum(n_records)::bigint as n_records
from ({LINKED_SQL}) group by person_id
"""


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

    thresholds_figures: dict[str, Any] = {}
    review_items: pa.Table | None = None
    n_left = count(con, f"select count(*) from ({UNDECIDED_SQL})")
    if n_left:
        say(f"概率匹配 probabilistic linkage of {n_left:,} profiles")
        reps = con.sql(_AGGREGATE_SQL).fetch_arrow_table()
        rep_roles = pa.table(
            {
                "node_id": pc.binary_join_element_wise("P:", reps.column("person_id"), ""),
                "source": pa.array(["person"] * reps.num_rows, pa.string()),
                "name": reps.column("name"),
                "birth_date": reps.column("birth_date"),
                "sex": reps.column("sex"),
                "id_number": reps.column("id_number"),
                "region_code": reps.column("region_code"),
                "address": reps.column("address"),
            }
        )
        n_persons = reps.num_rows
        person_ids = reps.column("person_id")
        del reps
        left_profiles = con.sql(
            f"select profile_id, name, eff_birth, eff_sex, id_norm, region_code, address "
            f"from ({UNDECIDED_SQL}) order by _pos"
        ).fetch_arrow_table()
        leftovers = left_profiles.column("profile_id").to_pylist()
        left_roles = _record_roles(left_profiles, prefix="R:")
        del left_profiles
        nodes = prepare_nodes(
            pa.concat_tables([rep_roles, left_roles], promote_options="permissive")
        )
        del rep_roles, left_roles
        population = nodes.select(["name_key"])
        nodes = reachable(
            nodes,
            [keys for keys, _ in blocking_keys(present_roles(nodes), flavour=settings.flavour)],
            fixed_source="person",
        )
        options = _options(workspace, settings)
        model = None if full else _load_model(workspace, settings)
        if model is None:
            say("训练匹配模型 training the linkage model")
            model = _train(con, n_profiles, options=options, settings=settings)
            _save_model(workspace, settings, model)
        say("候选对打分与聚类 scoring and clustering candidate pairs")
        anchors = {f"P:{pid}": pid for pid in person_ids.to_pylist()}
        del person_ids
        resolution = resolve(
            nodes,
            options=options,
            target_precision=settings.target_precision,
            target_recall=settings.target_recall,
            pair_filter=PERSON_FILTER,
            model=model,
            anchors=anchors,
            must_link=must_link,
            cannot_link=cannot_link,
            prior=_prior(n_left, n_persons),
            exclusive_persons=n_persons,
            frequencies_from=population,
        )
        del anchors, nodes, population
        best: dict[str, float] = {}
        reviewed_nodes: set[str] = set()
        accepted = resolution.pairs.filter(pc.equal(resolution.pairs.column("decision"), "accept"))
        for row in accepted.select(
            ["node_id_l", "node_id_r", "match_probability", "reviewed"]
        ).to_pylist():
            for node in (row["node_id_l"], row["node_id_r"]):
                best[node] = max(best.get(node, 0.0), float(row["match_probability"]))
                if row["reviewed"]:
                    reviewed_nodes.add(node)
        chosen: dict[str, list[Any]] = {
            "profile_id": [],
            "person_id": [],
            "match_method": [],
            "match_probability": [],
        }
        for profile_id in leftovers:
            node = f"R:{profile_id}"
            root = resolution.clusters[node]
            if root.startswith("R:"):
                person = person_id_for(secret, "cluster", root[2:])
                if root == node:
                    counts["new_person"] += 1
            else:
                person = root
            method = "reviewed" if node in reviewed_nodes else "probabilistic"
            counts[method] += 1
            chosen["profile_id"].append(profile_id)
            chosen["person_id"].append(person)
            chosen["match_method"].append(method)
            chosen["match_probability"].append(best.get(node))
        con.register("_chosen", pa.table(chosen, schema=_DECIDED_SCHEMA))
        con.execute("insert into decided select * from _chosen")
        con.unregister("_chosen")
        review_items = build_review_items(resolution, run_id=run_id)
        t = resolution.thresholds
        thresholds_figures = {
            "accept_threshold": round(t.accept, 6),
            "reject_threshold": round(t.reject, 6),
            "expected_precision": round(t.expected_precision, 6),
            "expected_recall": round(t.expected_recall, 6),
            "candidate_pairs": resolution.pairs.num_rows,
        }
        del resolution

    say("写入结果 writing link tables")
    persons = con.sql(_AGGREGATE_SQL).fetch_arrow_table()
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
    new_queue = merge_review_queue(queue, review_items, keep_open=not full)
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
        **thresholds_figures,
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


_DECIDED_SCHEMA = pa.schema(
    [
        ("profile_id", pa.string()),
        ("person_id", pa.string()),
        ("match_method", pa.string()),
        ("match_probability", pa.float64()),
    ]
)
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


def _record_roles(profiles: pa.Table, *, prefix: str, label: bool = False) -> pa.Table:
    columns: dict[str, Any] = {
        "node_id": pc.binary_join_element_wise(prefix, profiles.column("profile_id"), ""),
        "source": pa.array(["record"] * profiles.num_rows, pa.string()),
        "name": profiles.column("name"),
        "birth_date": profiles.column("eff_birth"),
        "sex": profiles.column("eff_sex"),
        "id_number": profiles.column("id_norm"),
        "region_code": profiles.column("region_code"),
        "address": profiles.column("address"),
    }
    if label:
        columns["label"] = pc.if_else(
            profiles.column("id_consistent"),
            profiles.column("id_norm"),
            profiles.column("profile_id"),
        )
    return pa.table(columns)


def _prior(n_records: int, n_persons: int) -> float:
    """Prior that a scored pair matches: about one true partner per new profile.

    Only record-record and record-person pairs are ever compared, so the prior is taken
    over those; a new profile belongs to one known person or shares a new person with
    another profile, hence about `n_records` true pairs among them.
    """
    eligible = n_records * (n_records - 1) / 2 + n_records * n_persons
    return min(0.5, max(1e-12, n_records / max(eligible, 1.0)))


def _options(workspace: Workspace, settings: LinkSettings) -> MatcherOptions:
    engine = workspace.config.engine
    return MatcherOptions(
        flavour=settings.flavour,
        engine="spark" if engine.kind == "spark" else "duckdb",
        threads=engine.threads,
        memory_limit=engine.memory_limit,
        seed=settings.seed,
        max_pairs_u=settings.u_sample_pairs,
        spark_master=engine.spark_master,
        spark_driver_memory=engine.spark_driver_memory,
    )


def _train(con: Any, n: int, *, options: MatcherOptions, settings: LinkSettings) -> dict[str, Any]:
    """Train on a sample of all identity profiles (each one a record of some person)."""
    from dixian.link.matcher import Matcher

    columns = "profile_id, name, eff_birth, eff_sex, id_norm, region_code, address, id_consistent"
    if n > settings.training_profiles:
        rng = np.random.default_rng(settings.seed)
        chosen = np.sort(rng.choice(n, size=settings.training_profiles, replace=False))
        con.register("_sample", pa.table({"_pos": pa.array(chosen, pa.int64())}))
        profiles = con.sql(
            f"select {columns} from profiles semi join _sample using (_pos) order by _pos"
        ).fetch_arrow_table()
        con.unregister("_sample")
    else:
        profiles = con.sql(f"select {columns} from profiles order by _pos").fetch_arrow_table()
    nodes = prepare_nodes(_record_roles(profiles, prefix="R:", label=True))
    return Matcher(nodes, options=options).train()


def _model_path(workspace: Workspace, settings: LinkSettings) -> Path:
    return workspace.artifacts_dir / "link" / f"model_{settings.flavour}.json"


def _load_model(workspace: Workspace, settings: LinkSettings) -> dict[str, Any] | None:
    path = _model_path(workspace, settings)
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _save_model(workspace: Workspace, settings: LinkSettings, model: dict[str, Any]) -> None:
    path = _model_path(workspace, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
