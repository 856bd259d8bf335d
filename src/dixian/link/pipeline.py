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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.errors import UserError
from dixian.link.chinese import pinyin
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
from dixian.link.identity import (
    analyse_ids,
    person_id_for,
    profile_ids,
    repair_ids,
    workspace_secret,
)
from dixian.link.kinship import household_links
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


_AGGREGATE_SQL = """
select person_id,
       max(id_person) as id_number,
       arg_max(name, n_records) as name,
       arg_max(eff_sex, n_records) filter (where eff_sex is not null) as sex,
       arg_max(eff_birth, n_records) filter (where eff_birth is not null) as birth_date,
       arg_max(region_code, n_records) filter (where region_code is not null) as region_code,
       arg_max(address, n_records) filter (where address is not null) as address,
       sum(n_records)::bigint as n_records
from linked group by person_id
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
    profiles = distinct_profiles(records).to_pyarrow()
    profiles = profiles.append_column(
        "profile_id",
        pa.array(profile_ids(secret, profiles.column("profile_key").to_pylist()), pa.string()),
    )
    profiles = analyse_ids(profiles)
    previous = None if full else read_table_or_none(backend, LINK_PROFILES)
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

    known: dict[str, tuple[str, str, float | None]] = {}  # profile_id -> person, method, p
    if previous is not None:
        for row in previous.select(
            ["profile_id", "person_id", "match_method", "match_probability"]
        ).to_pylist():
            if row["profile_id"] not in reopened:
                known[row["profile_id"]] = (
                    row["person_id"],
                    row["match_method"],
                    row["match_probability"],
                )
    current_ids = set(profiles.column("profile_id").to_pylist())
    known = {pid: value for pid, value in known.items() if pid in current_ids}

    rows = profiles.select(
        [
            "profile_id",
            "id_norm",
            "id_valid",
            "id_consistent",
            "name_key",
            "birth_date",
            "eff_birth",
        ]
    ).to_pylist()
    # Persons known by ID number, from earlier runs and from this run's deterministic step.
    id_person: dict[str, str] = {}
    person_names: dict[str, set[str]] = {}
    by_profile = {row["profile_id"]: row for row in rows}
    for profile_id, (person, method, _p) in known.items():
        row = by_profile[profile_id]
        if method == "id" and row["id_norm"]:
            id_person[row["id_norm"]] = person
        if row["name_key"]:
            person_names.setdefault(person, set()).add(pinyin(row["name_key"]) or "")

    say("身份证号确定性匹配 deterministic ID links")
    new_rows = [row for row in rows if row["profile_id"] not in known]
    counts = {
        "id": 0,
        "id_repaired": 0,
        "context": 0,
        "probabilistic": 0,
        "reviewed": 0,
        "new_person": 0,
    }
    for row in new_rows:
        if row["id_consistent"]:
            person = id_person.get(row["id_norm"]) or person_id_for(secret, "id", row["id_norm"])
            id_person[row["id_norm"]] = person
            known[row["profile_id"]] = (person, "id", 1.0)
            counts["id"] += 1
            if row["name_key"]:
                person_names.setdefault(person, set()).add(pinyin(row["name_key"]) or "")

    say("身份证号纠错 repairing ID numbers")
    repairs = repair_ids(new_rows, known=known, id_person=id_person, person_names=person_names)
    counts["id_repaired"] = len(repairs)
    for repair in repairs:
        repair["run_id"] = run_id

    say("同一部门记录上下文 linking by record context")
    weak = weak_profiles(
        profiles, [row["profile_id"] for row in new_rows if row["profile_id"] not in known]
    )
    if weak.num_rows:
        decided = context_links(
            records,
            profiles,
            weak,
            known=known,
            household_datasets=household_context(context_fields),
        )
        for profile_id, person in decided.items():
            known[profile_id] = (person, "context", 1.0)
            counts["context"] += 1
        still = weak.filter(
            pc.invert(pc.is_in(weak.column("profile_id"), pa.array(list(decided), pa.string())))
        )
        by_household = household_links(records, profiles, still, known=known, id_person=id_person)
        for profile_id, person in by_household.items():
            known[profile_id] = (person, "context", 1.0)
            counts["context"] += 1

    leftovers = [row["profile_id"] for row in new_rows if row["profile_id"] not in known]
    con = duckdb.connect()
    thresholds_figures: dict[str, Any] = {}
    review_items: pa.Table | None = None
    if leftovers:
        say(f"概率匹配 probabilistic linkage of {len(leftovers):,} profiles")
        linked = _linked_table(profiles, known)
        con.register("linked", linked)
        reps = con.sql(
            _AGGREGATE_SQL.replace("max(id_person)", "max(id_person)")
        ).fetch_arrow_table()
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
        left_mask = pc.is_in(profiles.column("profile_id"), pa.array(leftovers, pa.string()))
        left_profiles = profiles.filter(left_mask)
        left_roles = _record_roles(left_profiles, prefix="R:")
        nodes = prepare_nodes(
            pa.concat_tables([rep_roles, left_roles], promote_options="permissive")
        )
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
            model = _train(profiles, options=options, settings=settings)
            _save_model(workspace, settings, model)
        anchors = {f"P:{pid}": pid for pid in reps.column("person_id").to_pylist()}
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
            prior=_prior(len(leftovers), reps.num_rows),
            exclusive_persons=reps.num_rows,
            frequencies_from=population,
        )
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
            known[profile_id] = (person, method, best.get(node))
        review_items = build_review_items(resolution, run_id=run_id)
        t = resolution.thresholds
        thresholds_figures = {
            "accept_threshold": round(t.accept, 6),
            "reject_threshold": round(t.reject, 6),
            "expected_precision": round(t.expected_precision, 6),
            "expected_recall": round(t.expected_recall, 6),
            "candidate_pairs": resolution.pairs.num_rows,
        }

    say("写入结果 writing link tables")
    linked = _linked_table(profiles, known)
    con.register("linked_all", linked)
    persons = con.sql(
        _AGGREGATE_SQL.replace("from linked ", "from linked_all ")
    ).fetch_arrow_table()
    link_profiles = linked.select(
        ["profile_key", "profile_id", "person_id", "match_method", "match_probability"]
    )
    write_table(backend, LINK_PROFILES, link_profiles)
    write_table(backend, PERSONS, persons)
    write_person_link(backend, records, link_profiles)
    new_queue = merge_review_queue(queue, review_items, keep_open=not full)
    write_table(backend, REVIEW_QUEUE, new_queue)
    if repairs or read_table_or_none(backend, ID_REPAIRS) is None:
        old = None if full else read_table_or_none(backend, ID_REPAIRS)
        fresh = pa.Table.from_pylist(repairs, schema=_REPAIR_SCHEMA)
        write_table(backend, ID_REPAIRS, fresh if old is None else pa.concat_tables([old, fresh]))
    figures = {
        "mode": mode,
        "profiles": profiles.num_rows,
        "new_profiles": len(new_rows),
        "persons": persons.num_rows,
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


def _linked_table(profiles: pa.Table, known: dict[str, tuple[str, str, float | None]]) -> pa.Table:
    """Profiles that have a person, with person, method, probability and the ID it carries."""
    ids = profiles.column("profile_id").to_pylist()
    mask = pa.array([pid in known for pid in ids])
    linked = profiles.filter(mask)
    chosen = [known[pid] for pid in linked.column("profile_id").to_pylist()]
    methods = pa.array([c[1] for c in chosen], pa.string())
    id_person = pc.if_else(pc.equal(methods, "id"), linked.column("id_norm"), None)
    return (
        linked.append_column("person_id", pa.array([c[0] for c in chosen], pa.string()))
        .append_column("match_method", methods)
        .append_column("match_probability", pa.array([c[2] for c in chosen], pa.float64()))
        .append_column("id_person", id_person)
    )


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


def _train(
    profiles: pa.Table, *, options: MatcherOptions, settings: LinkSettings
) -> dict[str, Any]:
    """Train on a sample of all identity profiles (each one a record of some person)."""
    from dixian.link.matcher import Matcher

    n = profiles.num_rows
    if n > settings.training_profiles:
        rng = np.random.default_rng(settings.seed)
        chosen = np.sort(rng.choice(n, size=settings.training_profiles, replace=False))
        profiles = profiles.take(pa.array(chosen))
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
