"""Training the linkage model of `dixian link`: a stable sample of profiles, and the saved model.

The model is trained on a sample of every identity profile (each one a record of some
person). The sample is drawn by a seeded hash of `profile_id`, not by the profiles' position
in the run's bookkeeping: that position follows the order in which the engine returns the
profiles, which a multi-threaded DuckDB does not keep from one run to the next, so a
positional sample made two runs on the same workspace train two slightly different models
(F1 differed in the fifth decimal). The profile ids are keyed hashes of stable profile keys,
so the same workspace always draws the same sample, in the same order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from dixian.config import Workspace
from dixian.link.matcher import Matcher, MatcherOptions
from dixian.link.prepare import prepare_nodes
from dixian.link.settings import LinkSettings

TRAINING_COLUMNS = (
    "profile_id",
    "name",
    "eff_birth",
    "eff_sex",
    "id_norm",
    "region_code",
    "address",
    "id_consistent",
)


def training_sample(con: duckdb.DuckDBPyConnection, *, size: int, seed: int) -> pa.Table:
    """At most `size` profiles of table `profiles`, chosen by a seeded hash of their id.

    Args:
        con: the run's local DuckDB (see `dixian.link.ledger`).
        size: the most profiles to return (all of them when there are fewer).
        seed: mixed into the hash, so another seed draws another sample.

    Returns:
        The sampled profiles' `TRAINING_COLUMNS`, ordered by `profile_id`; the same
        whatever order the profiles were loaded in.
    """
    columns = ", ".join(TRAINING_COLUMNS)
    # md5 of the text: a hash that does not change between DuckDB versions or platforms.
    table: pa.Table = con.execute(
        f"select {columns} from (select {columns} from profiles "
        "order by md5(profile_id || ':' || ?), profile_id limit ?) order by profile_id",
        [str(seed), size],
    ).fetch_arrow_table()
    return table


def record_roles(profiles: pa.Table, *, prefix: str, label: bool = False) -> pa.Table:
    """The matcher's role table of identity profiles (node ids `<prefix><profile_id>`).

    Args:
        profiles: profiles with `profile_id`, `name`, `eff_birth`, `eff_sex`, `id_norm`,
            `region_code`, `address` (and `id_consistent` when `label`).
        prefix: node id prefix ("R:" for records).
        label: add the training label (the ID number of a consistent profile, else its
            own id), from which EM takes its starting values.
    """
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


def train_model(
    con: duckdb.DuckDBPyConnection, *, options: MatcherOptions, settings: LinkSettings
) -> dict[str, Any]:
    """Train the matcher on `training_sample`; returns the Splink model dict."""
    profiles = training_sample(con, size=settings.training_profiles, seed=settings.seed)
    nodes = prepare_nodes(record_roles(profiles, prefix="R:", label=True))
    del profiles
    return Matcher(nodes, options=options).train()


def _model_path(workspace: Workspace, settings: LinkSettings) -> Path:
    return workspace.artifacts_dir / "link" / f"model_{settings.flavour}.json"


def load_model(workspace: Workspace, settings: LinkSettings) -> dict[str, Any] | None:
    """The model an earlier run saved for this flavour, or None."""
    path = _model_path(workspace, settings)
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def save_model(workspace: Workspace, settings: LinkSettings, model: dict[str, Any]) -> None:
    """Save the model for later incremental runs (`W/artifacts/link/model_<flavour>.json`)."""
    path = _model_path(workspace, settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
