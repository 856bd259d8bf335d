"""Bring your own labels: train and evaluate the risk model on any household table.

A county's own survey, a verified list of households that fell back, any CSV or Parquet with
one row per household and a 0/1 outcome: the same model family (LightGBM with monotone
constraints, calibration chosen on validation, the same model card) is trained on it.

Validation is temporal when the table has a period column (the latest period validates, the
earlier ones train), otherwise a seeded, stratified random share of the rows. Columns named
like the default panel features keep their cause and monotone direction; others count to
the cause `other` and are unconstrained unless the analyst gives a direction.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dixian.errors import UserError
from dixian.monitor.features import DEFAULT_FEATURES, FeatureSpec
from dixian.monitor.training import TrainedModel, fit_and_describe, household_groups

_TRUE = {"1", "1.0", "true", "yes", "y", "是", "t"}
_FALSE = {"0", "0.0", "false", "no", "n", "否", "f"}


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8 or GBK) or Parquet file.

    Raises:
        UserError: missing file, unknown extension, or unreadable content.
    """
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".csv":
            try:
                return pd.read_csv(path, encoding="utf-8-sig", low_memory=False)
            except UnicodeDecodeError:
                return pd.read_csv(path, encoding="gbk", low_memory=False)
    except (ValueError, OSError) as exc:
        raise UserError(f"{path}: cannot be read as {suffix[1:].upper()}: {exc}") from exc
    raise UserError(f"{path}: expected a .csv or .parquet file")


def _require_column(frame: pd.DataFrame, column: str, *, path: Path, what: str) -> None:
    if column not in frame.columns:
        near = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise UserError(f"{path}: no {what} column '{column}'{hint}")


def binary_labels(values: pd.Series, *, path: Path, column: str) -> pd.Series:
    """0/1 labels from 0/1, true/false, yes/no or 是/否 values.

    Raises:
        UserError: naming the first row (1-based data row) with another value.
    """
    text = values.astype("string").str.strip().str.lower()
    result = pd.Series(np.nan, index=values.index)
    result[text.isin(_TRUE)] = 1
    result[text.isin(_FALSE)] = 0
    bad = result.isna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(
            f"{path}: row {position + 1}, column '{column}': value {values.iloc[position]!r}; "
            "expected 0/1, true/false, yes/no or 是/否"
        )
    return result.astype(int)


def _feature_specs(
    frame: pd.DataFrame, columns: Sequence[str], monotone: Mapping[str, int]
) -> list[FeatureSpec]:
    known = {spec.name: spec for spec in DEFAULT_FEATURES}
    specs = []
    for column in columns:
        base = known.get(column)
        specs.append(
            FeatureSpec(
                name=column,
                source=column,
                aggregation="last",
                cause=base.cause if base else "other",
                monotone=int(monotone.get(column, base.monotone if base else 0)),
                label_zh=base.label_zh if base else column,
            )
        )
    return specs


def _numeric(frame: pd.DataFrame, column: str, *, path: Path) -> pd.Series:
    values = frame[column]
    if values.dtype == bool:
        return values.astype(float)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(
            f"{path}: row {position + 1}, column '{column}': value {values.iloc[position]!r} "
            "is not a number"
        )
    return converted.astype(float)


def train_from_table(
    path: Path,
    *,
    target: str,
    features: Sequence[str] | None = None,
    id_column: str | None = None,
    period_column: str | None = None,
    monotone: Mapping[str, int] | None = None,
    validation_share: float = 0.25,
    seed: int = 0,
    model_params: Mapping[str, Any] | None = None,
) -> TrainedModel:
    """Train the risk model on a household table with a 0/1 target column.

    Args:
        path: CSV or Parquet file, one row per household (and period, if any).
        target: the 0/1 outcome column.
        features: the feature columns (default: every numeric or boolean column other than
            the id, period and target).
        id_column: a household id column (kept out of the features).
        period_column: a period column: validate on its latest value, train on earlier ones.
        monotone: column → +1/−1 direction constraints.
        validation_share: share of rows for validation without a period column.
        seed: random seed of the split and the model.
        model_params: RiskModel hyper-parameters.

    Raises:
        UserError: a missing column, a non-binary target, a non-numeric feature, or a split
            without both outcomes.
    """
    frame = read_table(path)
    _require_column(frame, target, path=path, what="target")
    reserved = {target}
    for column, what in ((id_column, "id"), (period_column, "period")):
        if column:
            _require_column(frame, column, path=path, what=what)
            reserved.add(column)
    if features:
        for column in features:
            _require_column(frame, column, path=path, what="feature")
        chosen = list(features)
    else:
        chosen = [
            str(c)
            for c in frame.columns
            if c not in reserved
            and (pd.api.types.is_numeric_dtype(frame[c]) or frame[c].dtype == bool)
        ]
    if not chosen:
        raise UserError(f"{path}: no numeric feature columns besides the target")
    unknown = sorted(set(monotone or {}) - set(chosen))
    if unknown:
        raise UserError(f"monotone direction given for column(s) not among the features: {unknown}")
    data = pd.DataFrame({column: _numeric(frame, column, path=path) for column in chosen})
    data["label"] = binary_labels(frame[target], path=path, column=target)
    for column in ("region_code",):
        if column in frame.columns:
            data[column] = frame[column].astype("string")
    if period_column:
        periods = frame[period_column].astype(str)
        latest = periods.max()
        valid_mask = (periods == latest).to_numpy()
        if valid_mask.all():
            raise UserError(f"{path}: column '{period_column}' has one value; need earlier periods")
        split = {"kind": "temporal", "validation_period": latest}
    else:
        rng = np.random.default_rng(seed)
        valid_mask = np.zeros(len(data), dtype=bool)
        for outcome in (0, 1):
            rows = np.flatnonzero(data["label"].to_numpy() == outcome)
            take = rng.choice(rows, size=round(validation_share * len(rows)), replace=False)
            valid_mask[take] = True
        split = {"kind": "random_stratified", "validation_share": validation_share}
    specs = _feature_specs(data, chosen, monotone or {})
    train, valid = data[~valid_mask].reset_index(drop=True), data[valid_mask].reset_index(drop=True)
    params = {"random_state": seed, **(model_params or {})}
    trained = fit_and_describe(
        train, valid, features=specs, model_params=params, groups=household_groups(valid)
    )
    trained.card["split"] = split
    trained.card["data"] = str(path)
    trained.card["target"] = target
    ignored = [str(c) for c in frame.columns if c not in reserved and c not in chosen]
    trained.card["ignored_columns"] = ignored
    return trained
