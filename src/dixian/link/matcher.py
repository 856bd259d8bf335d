"""The probabilistic matcher shared by `dixian link` and `dixian match`.

One code path: a prepared node table (see `dixian.link.prepare`) goes to Splink on the
workspace's engine (an in-memory DuckDB, or the Spark session), a Fellegi-Sunter model
is trained (u by random sampling, the match prior from near-deterministic rules, m by EM
over two blocking rules) or loaded, and candidate pairs are scored. Clustering and
thresholds live in `dixian.link.clustering` and `dixian.link.thresholds`.
"""

from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pyarrow as pa
import pyarrow.compute as pc
from splink import Linker, SettingsCreator

from dixian.link.comparisons import (
    Flavour,
    build_blocking_rules,
    build_comparisons,
    deterministic_rules,
    training_blocking_rules,
)

EngineKind = Literal["duckdb", "spark"]
logger = logging.getLogger(__name__)

# Matching columns kept next to each scored pair, for the review queue's evidence.
EVIDENCE_COLUMNS = (
    "name",
    "name_key",
    "birth_str",
    "sex",
    "id_number",
    "region_code",
    "address",
)


@dataclass
class MatcherOptions:
    """How the matcher trains and scores.

    Attributes:
        flavour: "chinese" comparisons or the "plain" baseline.
        engine: "duckdb" (an in-memory DuckDB) or "spark" (the process's Spark session).
        threads: DuckDB threads.
        memory_limit: DuckDB memory limit.
        seed: seed for Splink's random sampling (reproducible models).
        max_pairs_u: pairs sampled to estimate u probabilities.
        max_pairs_em: pairs per EM session (None: all blocked pairs).
        prior_recall: assumed recall of the deterministic rules used for the match prior.
        min_probability: pairs scored below this are not returned.
    """

    flavour: Flavour = "chinese"
    engine: EngineKind = "duckdb"
    threads: int = 2
    memory_limit: str = "8GB"
    seed: int = 20260101
    max_pairs_u: float = 1e6
    max_pairs_em: float | None = 2e6
    prior_recall: float = 0.8
    min_probability: float = 0.01
    spark_master: str = "local[2]"
    spark_driver_memory: str = "4g"
    extra: dict[str, Any] = field(default_factory=dict)


def present_roles(nodes: pa.Table) -> list[str]:
    """Roles that have at least one value in the node table."""
    probes = {
        "name": "name_key",
        "birth_date": "birth_str",
        "sex": "sex",
        "id_number": "id_number",
        "region_code": "region_code",
        "address": "address_key",
    }
    return [
        role
        for role, column in probes.items()
        if column in nodes.column_names and nodes.column(column).null_count < nodes.num_rows
    ]


def _db_api(options: MatcherOptions) -> Any:
    if options.engine == "spark":
        from splink import SparkAPI

        from dixian.engine import spark_session

        session = spark_session(options.spark_master, options.spark_driver_memory)
        spark_api: Any = SparkAPI
        # "persist" keeps intermediate tables in memory; "checkpoint" would need a
        # checkpoint directory configured on the cluster.
        return spark_api(spark_session=session, break_lineage_method="persist")
    import duckdb
    from splink import DuckDBAPI

    connection = duckdb.connect(
        ":memory:", config={"threads": options.threads, "memory_limit": options.memory_limit}
    )
    return DuckDBAPI(connection=connection)


def _settings(
    roles: list[str], options: MatcherOptions, *, pair_filter: str | None
) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="node_id",
        comparisons=build_comparisons(roles, flavour=options.flavour, dialect=options.engine),
        blocking_rules_to_generate_predictions=cast(
            Any, build_blocking_rules(roles, flavour=options.flavour, pair_filter=pair_filter)
        ),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["source"],
        max_iterations=20,
    )


def _quiet() -> None:
    logging.getLogger("splink").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="splink")


class Matcher:
    """A Splink model over one node table: train (or load) it, then score pairs.

    Example:
        >>> matcher = Matcher(nodes, options=MatcherOptions())  # doctest: +SKIP
        >>> matcher.train()  # doctest: +SKIP
        >>> pairs = matcher.predict()  # doctest: +SKIP
    """

    def __init__(
        self,
        nodes: pa.Table,
        *,
        options: MatcherOptions,
        pair_filter: str | None = None,
        model: dict[str, Any] | None = None,
        frequencies_from: pa.Table | None = None,
    ) -> None:
        _quiet()
        self.nodes = nodes
        self.options = options
        self.roles = present_roles(nodes)
        self.pair_filter = pair_filter
        self._db_api = _db_api(options)
        table = self._register(nodes)
        if model is not None:
            dialect = "spark" if options.engine == "spark" else "duckdb"
            settings: Any = _port_model(
                model, _settings(self.roles, options, pair_filter=pair_filter), dialect
            )
        else:
            settings = _settings(self.roles, options, pair_filter=pair_filter)
        # A loaded model was validated when it was trained; validating again costs seconds
        # of SQL parsing per run.
        self.linker = Linker(
            table, settings, log_level=logging.ERROR, validate_settings=model is None
        )
        if frequencies_from is not None:
            self._register_frequencies(frequencies_from)

    def _register(self, nodes: pa.Table) -> Any:
        if self.options.engine == "spark":
            # Through a Spark DataFrame built from Arrow: Splink's pandas path cannot infer
            # the type of list columns (the masks and bigrams).
            frame = self._db_api.spark.createDataFrame(nodes)
            return self._db_api.register(frame)
        return self._db_api.register(nodes)

    def _register_frequencies(self, population: pa.Table) -> None:
        """Term frequencies of the name key from a wider population than the node table.

        When the node table is a filtered subset (new records and the persons they can
        reach), name frequencies counted on it would be inflated; they must come from the
        whole register.
        """
        column = "name_key"
        values = population.column(column).drop_null()
        if len(values) == 0:
            return
        counts = pc.value_counts(values)
        total = float(len(values))
        table = pa.table(
            {
                column: counts.field("values"),
                f"tf_{column}": pc.divide(pc.cast(counts.field("counts"), pa.float64()), total),
            }
        )
        if self.options.engine == "spark":
            registered = self._db_api.register(self._db_api.spark.createDataFrame(table))
        else:
            registered = self._db_api.register(table)
        self.linker.table_management.register_term_frequency_lookup(registered, column)

    def train(self) -> dict[str, Any]:
        """Estimate the model's parameters on this node table; returns the model dict."""
        training = self.linker.training
        # Chunking bounds memory on big tables; on small ones a single pass is enough and
        # avoids dozens of round trips.
        chunks = 1 if self.nodes.num_rows < 100_000 else 10
        training.estimate_u_using_random_sampling(
            max_pairs=self.options.max_pairs_u, seed=self.options.seed, num_chunks=chunks
        )
        rules: Any = deterministic_rules(self.roles)
        if rules:
            training.estimate_probability_two_random_records_match(
                rules, recall=self.options.prior_recall
            )
        if "label" in self.nodes.column_names and self.nodes.column("label").null_count < len(
            self.nodes
        ):
            # Starting values for EM from the pairs the deterministic step already knows
            # (profiles sharing a valid ID number): EM then refines them.
            try:
                training.estimate_m_from_label_column("label")
            except ValueError:
                logger.warning("m from labels failed; EM starts from Splink's defaults")
        settings = self.linker._settings_obj
        for rule in training_blocking_rules(self.roles):
            snapshot = copy.deepcopy(settings.core_model_settings)
            try:
                training.estimate_parameters_using_expectation_maximisation(
                    rule,
                    estimate_without_term_frequencies=True,
                    max_pairs=self.options.max_pairs_em,
                )
            except ValueError as exc:
                # Splink refuses an m that underflows to 0 (a level EM drives out on small
                # data). A failed session leaves the linker without the comparisons it had
                # set aside for the blocking rule, so the model is restored as it was.
                settings.core_model_settings = snapshot
                logger.warning("EM session %s dropped: %s", rule, exc)
        return self.model()

    def set_prior_from_data(self) -> None:
        """Re-estimate only the match prior on this table (for a model trained elsewhere).

        An estimate of 0 or 1 (no deterministic match at all, or nothing but) is useless
        as a prior; the model's own prior is kept then.
        """
        rules: Any = deterministic_rules(self.roles)
        settings = self.linker._settings_obj
        before = settings._probability_two_random_records_match
        if rules:
            self.linker.training.estimate_probability_two_random_records_match(
                rules, recall=self.options.prior_recall
            )
        if not 0 < settings._probability_two_random_records_match < 1:
            settings._probability_two_random_records_match = before

    def set_prior(self, probability: float) -> None:
        """Set the prior probability that two records of this table match."""
        if not 0 < probability < 1:
            raise ValueError(f"a match prior must lie in (0, 1), got {probability}")
        self.linker._settings_obj._probability_two_random_records_match = probability

    def model(self) -> dict[str, Any]:
        """The trained model as a JSON-serialisable Splink settings dict."""
        saved: dict[str, Any] = self.linker.misc.save_model_to_json()
        return saved

    def predict(self) -> pa.Table:
        """Score candidate pairs; returns one row per pair with probability and evidence.

        Pairs are ordered by (node_id_l, node_id_r), the smaller id on the left.
        Columns: node_id_l, node_id_r, source_l, source_r, match_probability,
        match_weight, gamma_<comparison> for each comparison, and <role>_l / <role>_r
        for the evidence columns present.
        """
        predictions = self.linker.inference.predict(
            threshold_match_probability=self.options.min_probability
        )
        frame = cast(Any, predictions).as_pandas_dataframe()
        wanted = ["node_id_l", "node_id_r", "source_l", "source_r", "match_probability"]
        wanted.append("match_weight")
        wanted += [column for column in frame.columns if column.startswith("gamma_")]
        for column in EVIDENCE_COLUMNS:
            for side in ("l", "r"):
                if f"{column}_{side}" in frame.columns:
                    wanted.append(f"{column}_{side}")
        table = pa.Table.from_pandas(frame[wanted], preserve_index=False)
        predictions.drop_table_from_database_and_remove_from_cache()
        # In pair order: the engine returns pairs in an order of its threads' making, and
        # sums over them (the one-person-per-record posterior) would differ in the last bits.
        return _orient_pairs(table).sort_by(
            [("node_id_l", "ascending"), ("node_id_r", "ascending")]
        )

    def level_labels(self) -> dict[str, dict[int, str]]:
        """For each comparison, its gamma values mapped to human-readable level labels."""
        labels: dict[str, dict[int, str]] = {}
        for comparison in self.linker._settings_obj.comparisons:
            levels: dict[int, str] = {}
            for level in comparison.comparison_levels:
                levels[int(level.comparison_vector_value)] = str(level.label_for_charts)
            labels[comparison.output_column_name] = levels
        return labels


def _port_model(model: dict[str, Any], fresh: SettingsCreator, dialect: str) -> dict[str, Any]:
    """A trained model's parameters on freshly built settings for `dialect`.

    The comparisons are built by this module for every engine with the same levels in the
    same order, only their SQL differs; so a model trained on DuckDB can score on Spark
    (and a saved model survives a change of blocking rules): m, u and the prior are copied
    level by level.
    """
    settings: dict[str, Any] = fresh.create_settings_dict(dialect)
    trained = {c["output_column_name"]: c for c in model.get("comparisons", [])}
    for comparison in settings["comparisons"]:
        source = trained.get(comparison["output_column_name"])
        if source is None:
            continue
        for level, learnt in zip(
            comparison["comparison_levels"], source["comparison_levels"], strict=False
        ):
            for key in ("m_probability", "u_probability"):
                if key in learnt:
                    level[key] = learnt[key]
    settings["probability_two_random_records_match"] = model.get(
        "probability_two_random_records_match", settings["probability_two_random_records_match"]
    )
    return settings


def _orient_pairs(table: pa.Table) -> pa.Table:
    """Put the smaller node id on the left so that pair keys are canonical."""
    swap = pc.greater(table.column("node_id_l"), table.column("node_id_r"))
    columns: dict[str, Any] = {}
    for name in table.column_names:
        if name.endswith(("_l", "_r")):
            base, side = name[:-2], name[-1]
            other = f"{base}_{'r' if side == 'l' else 'l'}"
            if other in table.column_names:
                columns[name] = pc.if_else(swap, table.column(other), table.column(name))
                continue
        columns[name] = table.column(name)
    return pa.table(columns)
