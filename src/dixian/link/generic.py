"""Generic matching of any two files (or deduplication of one): `dixian match`.

A YAML column map names which column plays which comparison role:

```yaml
id: rec_id              # a unique record id column (default: the 1-based row number)
columns:
  full_name: name       # or surname + given_name
  birth_date: dob
  sex: gender
  id_number: id_no
  address: addr
  region: postcode      # village code, postcode or any area code
date_format: "%Y%m%d"   # optional; default: ISO and common variants
target_precision: 0.99  # optional
target_recall: 0.999    # optional
flavour: chinese        # or plain
```

It runs through `dixian.link.resolve`, the same code `dixian link` uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dixian.errors import ConfigError, FeedValidationError
from dixian.link.matcher import MatcherOptions
from dixian.link.prepare import prepare_nodes
from dixian.link.resolve import DECISION_ACCEPT, DECISION_REVIEW, resolve

# Role names a column map may use, and the node-table column each fills.
MAP_ROLES: dict[str, str] = {
    "full_name": "name",
    "surname": "surname",
    "given_name": "given_name",
    "birth_date": "birth_date",
    "sex": "sex",
    "id_number": "id_number",
    "address": "address",
    "region": "region_code",
    "postcode": "region_code",
}


class ColumnMap(BaseModel):
    """A validated column map (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    columns: dict[str, str] = Field(min_length=1)
    date_format: str | None = None
    target_precision: float = Field(default=0.99, gt=0, le=1)
    target_recall: float = Field(default=0.999, gt=0, le=1)
    flavour: Literal["chinese", "plain"] = "chinese"


def load_column_map(path: Path) -> ColumnMap:
    """Read and validate a column map, naming every problem at once."""
    if not path.is_file():
        raise ConfigError(f"{path}: column map not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        column_map = ColumnMap.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc
    unknown = sorted(set(column_map.columns) - set(MAP_ROLES))
    if unknown:
        raise ConfigError(
            f"{path}: unknown role(s) {unknown}; expected some of {sorted(MAP_ROLES)}"
        )
    return column_map


def read_table(path: Path) -> pa.Table:
    """Read a CSV (UTF-8, all columns as text) or Parquet file."""
    if not path.is_file():
        raise FeedValidationError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pq.read_table(path)
    if suffix in {".csv", ".txt"}:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=True, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise FeedValidationError(f"{path}: cannot read as UTF-8 CSV: {exc}") from exc
        return pa.Table.from_pandas(frame, preserve_index=False)
    raise FeedValidationError(f"{path}: expected a .csv or .parquet file, got '{suffix}'")


def _parse_dates(values: pd.Series, date_format: str | None) -> pd.Series:
    text = values.astype("string").str.strip()
    if date_format:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    else:
        parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    return parsed.dt.date


def role_table(table: pa.Table, *, column_map: ColumnMap, source: str, path: Path) -> pa.Table:
    """Map a file's columns to the node roles; node ids are `<source>:<record id>`."""
    frame = table.to_pandas()
    missing = [column for column in column_map.columns.values() if column not in frame.columns]
    if column_map.id and column_map.id not in frame.columns:
        missing.append(column_map.id)
    if missing:
        raise FeedValidationError(
            f"{path}: column(s) {missing} named in the column map are not in the file "
            f"(found: {list(frame.columns)})"
        )
    if column_map.id:
        ids = frame[column_map.id].astype("string")
        if ids.isna().any() or ids.duplicated().any():
            raise FeedValidationError(
                f"{path}: id column '{column_map.id}' must be unique, non-empty"
            )
    else:
        ids = pd.Series([str(n) for n in range(1, len(frame) + 1)], dtype="string")
    columns: dict[str, pa.Array] = {
        "record_id": pa.array(ids, type=pa.string(), from_pandas=True),
        "node_id": pa.array(source + ":" + ids, type=pa.string(), from_pandas=True),
        "source": pa.array([source] * len(frame), type=pa.string()),
    }
    for role, column in column_map.columns.items():
        target = MAP_ROLES[role]
        if target == "birth_date":
            dates = _parse_dates(frame[column], column_map.date_format)
            columns[target] = pa.array(dates, type=pa.date32(), from_pandas=True)
        else:
            values = frame[column].astype("string").str.strip()
            values = values.where(values != "", pd.NA)
            columns[target] = pa.array(values, type=pa.string(), from_pandas=True)
    return pa.table(columns)


@dataclass
class MatchResult:
    """Figures of a `dixian match` run."""

    records: int
    candidate_pairs: int
    accepted_pairs: int
    review_pairs: int
    clusters: int
    accept_threshold: float
    reject_threshold: float
    expected_precision: float
    expected_recall: float
    out_dir: Path

    def figures(self) -> dict[str, Any]:
        """The figures as a JSON-ready mapping."""
        return {
            "records": self.records,
            "candidate_pairs": self.candidate_pairs,
            "accepted_pairs": self.accepted_pairs,
            "review_pairs": self.review_pairs,
            "clusters": self.clusters,
            "accept_threshold": round(self.accept_threshold, 6),
            "reject_threshold": round(self.reject_threshold, 6),
            "expected_precision": round(self.expected_precision, 6),
            "expected_recall": round(self.expected_recall, 6),
            "out": str(self.out_dir),
        }


def match_files(
    left: Path,
    right: Path | None,
    *,
    column_map: ColumnMap,
    out_dir: Path,
    options: MatcherOptions | None = None,
) -> MatchResult:
    """Link two files (or deduplicate one) and write scored pairs and clusters.

    Args:
        left: the first (or only) file.
        right: the second file, or None to deduplicate `left`.
        column_map: which columns play which comparison role.
        out_dir: folder for `pairs.csv`, `clusters.csv`, `model.json`, `summary.json`.
        options: matcher options (default: DuckDB, the map's flavour).

    Returns:
        The run's figures.
    """
    options = options or MatcherOptions()
    options.flavour = column_map.flavour
    parts = [role_table(read_table(left), column_map=column_map, source="left", path=left)]
    if right is not None:
        parts.append(
            role_table(read_table(right), column_map=column_map, source="right", path=right)
        )
    roles = pa.concat_tables(parts, promote_options="permissive")
    nodes = prepare_nodes(roles)
    resolution = resolve(
        nodes,
        options=options,
        target_precision=column_map.target_precision,
        target_recall=column_map.target_recall,
        pair_filter="l.source <> r.source" if right is not None else None,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    record_of = dict(
        zip(roles.column("node_id").to_pylist(), roles.column("record_id").to_pylist(), strict=True)
    )
    pairs = resolution.pairs
    keep = [c for c in pairs.column_names if not c.startswith("gamma_")]
    pairs_out = pairs.select(keep)
    pairs_out = pairs_out.append_column(
        "record_id_l",
        pa.array([record_of[n] for n in pairs.column("node_id_l").to_pylist()], pa.string()),
    ).append_column(
        "record_id_r",
        pa.array([record_of[n] for n in pairs.column("node_id_r").to_pylist()], pa.string()),
    )
    pacsv.write_csv(pairs_out, out_dir / "pairs.csv")
    nodes_list = roles.column("node_id").to_pylist()
    cluster_ids = [resolution.clusters[n] for n in nodes_list]
    clusters = pa.table(
        {
            "source": roles.column("source"),
            "record_id": roles.column("record_id"),
            "cluster_id": pa.array(cluster_ids, pa.string()),
        }
    )
    pacsv.write_csv(clusters, out_dir / "clusters.csv")
    (out_dir / "model.json").write_text(
        json.dumps(resolution.model, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    decisions = pairs.column("decision").to_pylist()
    result = MatchResult(
        records=roles.num_rows,
        candidate_pairs=pairs.num_rows,
        accepted_pairs=sum(1 for d in decisions if d == DECISION_ACCEPT),
        review_pairs=sum(1 for d in decisions if d == DECISION_REVIEW),
        clusters=len(set(cluster_ids)),
        accept_threshold=resolution.thresholds.accept,
        reject_threshold=resolution.thresholds.reject,
        expected_precision=resolution.thresholds.expected_precision,
        expected_recall=resolution.thresholds.expected_recall,
        out_dir=out_dir,
    )
    (out_dir / "summary.json").write_text(
        json.dumps(result.figures(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return result
