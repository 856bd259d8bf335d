"""Step 4 of `dixian link`: the profiles no rule decided, linked with Splink.

The undecided profiles are compared against one representative per known person and
against each other (never person against person), scored with the workspace's model
(trained on a stable sample of all profiles when there is none, see
`dixian.link.training`), and clustered under the constraint that two known persons never
merge. Each profile joins its cluster's person, or a new person keyed by the cluster's
smallest profile; pairs between the thresholds become review items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from dixian.config import Workspace
from dixian.link.comparisons import blocking_keys
from dixian.link.identity import person_id_for
from dixian.link.ledger import PERSONS_SQL, UNDECIDED_SQL
from dixian.link.matcher import MatcherOptions, present_roles
from dixian.link.prepare import prepare_nodes, reachable
from dixian.link.resolve import resolve
from dixian.link.review import build_review_items
from dixian.link.settings import LinkSettings
from dixian.link.training import load_model, record_roles, save_model, train_model

PERSON_FILTER = "not (l.source = 'person' and r.source = 'person')"

_DECIDED_SCHEMA = pa.schema(
    [
        ("profile_id", pa.string()),
        ("person_id", pa.string()),
        ("match_method", pa.string()),
        ("match_probability", pa.float64()),
    ]
)


@dataclass
class ProbabilisticStep:
    """What the probabilistic step decided.

    Attributes:
        counts: profiles linked `probabilistic` and `reviewed`, and `new_person`
            (clusters of new profiles that became a person).
        review_items: pairs for the clerical review queue.
        figures: thresholds and the number of candidate pairs.
    """

    counts: dict[str, int] = field(default_factory=dict)
    review_items: pa.Table | None = None
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunParams:
    """The run a step belongs to: workspace, settings, key and mode."""

    workspace: Workspace
    settings: LinkSettings
    secret: bytes
    run_id: str
    full: bool


def probabilistic_links(
    con: duckdb.DuckDBPyConnection,
    run: RunParams,
    *,
    n_left: int,
    must_link: list[tuple[str, str]],
    cannot_link: list[tuple[str, str]],
    say: Callable[[str], None],
) -> ProbabilisticStep:
    """Link the `n_left` undecided profiles; their decisions go into table `decided`.

    Args:
        con: the run's local DuckDB (`profiles`, `decided`; see `dixian.link.ledger`).
        run: the run's workspace, settings, key and mode.
        n_left: how many profiles no earlier step decided.
        must_link: node pairs a reviewer matched.
        cannot_link: node pairs a reviewer declared different.
        say: progress messages.

    Returns:
        Counts, review items and threshold figures.
    """
    reps = con.sql(PERSONS_SQL).fetch_arrow_table()
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
        f"from ({UNDECIDED_SQL}) order by profile_id"
    ).fetch_arrow_table()
    leftovers = left_profiles.column("profile_id").to_pylist()
    left_roles = record_roles(left_profiles, prefix="R:")
    del left_profiles
    nodes = prepare_nodes(pa.concat_tables([rep_roles, left_roles], promote_options="permissive"))
    del rep_roles, left_roles
    population = nodes.select(["name_key"])
    settings = run.settings
    nodes = reachable(
        nodes,
        [keys for keys, _ in blocking_keys(present_roles(nodes), flavour=settings.flavour)],
        fixed_source="person",
    )
    options = _options(run.workspace, settings)
    model = None if run.full else load_model(run.workspace, settings)
    if model is None:
        say("训练匹配模型 training the linkage model")
        model = train_model(con, options=options, settings=settings)
        save_model(run.workspace, settings, model)
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
    counts = {"probabilistic": 0, "reviewed": 0, "new_person": 0}
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
            person = person_id_for(run.secret, "cluster", root[2:])
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
    t = resolution.thresholds
    return ProbabilisticStep(
        counts=counts,
        review_items=build_review_items(resolution, run_id=run.run_id),
        figures={
            "accept_threshold": round(t.accept, 6),
            "reject_threshold": round(t.reject, 6),
            "expected_precision": round(t.expected_precision, 6),
            "expected_recall": round(t.expected_recall, 6),
            "candidate_pairs": resolution.pairs.num_rows,
        },
    )


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
