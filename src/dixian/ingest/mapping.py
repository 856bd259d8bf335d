"""Recognising a feed's dataset and mapping its columns to the standard's fields.

A column is matched by the field's standard name, its Chinese label or one of its aliases,
after normalising the header text (full-width, whitespace, traditional characters, a unit in
brackets such as "（万元）", required-marks "*"). A flattened two-row header "户主信息/姓名"
is tried whole, then by its lower and upper part. A workspace override file (`ingest.yaml`)
adds a department's odd names, encodings and dataset assignments.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from dixian.errors import ConfigError, FeedValidationError
from dixian.standards import Catalog, Dataset

OVERRIDES_FILE = "ingest.yaml"

_UNIT_IN_BRACKETS = re.compile(
    r"[（(]\s*(?:单位[:：]?)?\s*(万元|千元|元|人|亩|平方米|㎡|%)\s*[)）]"
)
_NOISE = re.compile(r"[\s*＊:：_\-—·.。、]+")
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?")
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@lru_cache(maxsize=1 << 16)
def normalise_label(label: str) -> str:
    """A header label reduced for matching: half-width, simplified, no unit, no punctuation.

    Traditional characters are simplified by OpenCC's character table (as for name keys):
    the header scan tests every cell of the first rows, and OpenCC's phrase converter costs
    tens of microseconds per cell.
    """
    text = label.translate(_FULL_TO_HALF)
    text = _UNIT_IN_BRACKETS.sub("", text)
    text = text.translate(_simplified_table())
    return _NOISE.sub("", text).casefold()


@cache
def _simplified_table() -> dict[int, int]:
    from dixian.ingest.normalise import traditional_table

    return traditional_table()


def label_unit(label: str) -> str | None:
    """The unit a header states in brackets ("金额（万元）" → "万元"), if any."""
    match = _UNIT_IN_BRACKETS.search(label.translate(_FULL_TO_HALF))
    return match.group(1) if match else None


@dataclass(frozen=True)
class Overrides:
    """The workspace's `ingest.yaml`: odd column names, encodings, dataset assignments.

    Example file:
        columns:
          civil_affairs_assistance:
            保障对象证件号: id_number
        encodings:
          civil_affairs/civil_affairs_assistance/2024-01.csv: gbk
        datasets:
          "odd_exports/*.xlsx": civil_affairs_assistance
    """

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    datasets: dict[str, str] = field(default_factory=dict)

    def encoding_for(self, source_file: str) -> str | None:
        for pattern, encoding in self.encodings.items():
            if fnmatch.fnmatch(source_file, pattern):
                return encoding
        return None

    def dataset_for(self, source_file: str) -> str | None:
        for pattern, dataset in self.datasets.items():
            if fnmatch.fnmatch(source_file, pattern):
                return dataset
        return None


def load_overrides(root: Path, catalog: Catalog) -> Overrides:
    """Read `<workspace>/ingest.yaml` (absent: no overrides), checking every name in it.

    Raises:
        ConfigError: unreadable YAML, an unknown key, dataset or field (all named at once).
    """
    path = root / OVERRIDES_FILE
    if not path.is_file():
        return Overrides()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with columns/encodings/datasets")
    problems = [
        f"unknown key '{key}'" for key in raw if key not in {"columns", "encodings", "datasets"}
    ]
    known = set(catalog.dataset_names())
    columns: dict[str, dict[str, str]] = {}
    for dataset_name, mapping in (raw.get("columns") or {}).items():
        if dataset_name not in known:
            problems.append(f"columns: unknown dataset '{dataset_name}'")
            continue
        fields = set(catalog.dataset(dataset_name).field_names())
        for label, target in (mapping or {}).items():
            if target not in fields:
                problems.append(f"columns.{dataset_name}.{label}: unknown field '{target}'")
        columns[dataset_name] = {
            normalise_label(str(k)): str(v) for k, v in (mapping or {}).items()
        }
    datasets = {str(k): str(v) for k, v in (raw.get("datasets") or {}).items()}
    problems += [
        f"datasets.{k}: unknown dataset '{v}'" for k, v in datasets.items() if v not in known
    ]
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    encodings = {str(k): str(v) for k, v in (raw.get("encodings") or {}).items()}
    return Overrides(columns=columns, encodings=encodings, datasets=datasets)


@dataclass(frozen=True)
class FeedLocation:
    """What a feed's path says: department, dataset, period."""

    department: str | None
    dataset: str | None
    period: str


def locate_feed(source_file: str, catalog: Catalog, overrides: Overrides) -> FeedLocation:
    """Read department, dataset and period from `<department>/<dataset>/<period>.<ext>`.

    The period is the leading `YYYY-MM` or `YYYY` of the file name; a file whose name has
    none gets the name itself (e.g. a database table).
    """
    parts = PurePosixPath(source_file).parts
    stem = PurePosixPath(source_file).stem
    match = _PERIOD.match(stem)
    period = match.group(0) if match else stem
    dataset = overrides.dataset_for(source_file)
    if dataset is None and len(parts) >= 2 and parts[-2] in catalog.dataset_names():
        dataset = parts[-2]
    department = catalog.dataset(dataset).department if dataset else None
    return FeedLocation(department, dataset, period)


def _spellings(dataset: Dataset, overrides: Overrides) -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in dataset.fields:
        for spelling in spec.all_names():
            table.setdefault(normalise_label(spelling), spec.name)
    table.update(overrides.columns.get(dataset.name, {}))
    return table


def _candidates(label: str) -> list[str]:
    whole = normalise_label(label)
    if "/" not in label:
        return [whole]
    upper, _, lower = label.rpartition("/")
    return [whole, normalise_label(lower), normalise_label(upper)]


@dataclass(frozen=True)
class ColumnMapping:
    """How one sheet's columns map to a dataset's fields.

    Attributes:
        dataset: the dataset name.
        fields: field name → column index in the sheet.
        units: field name → unit stated in the column's header (e.g. "万元").
        dropped: labels of columns that map to no field (not stored, reported).
        duplicates: labels of columns mapping to a field an earlier column already took.
    """

    dataset: str
    fields: dict[str, int]
    units: dict[str, str]
    dropped: list[str]
    duplicates: list[str]


def map_columns(
    columns: list[str], dataset: Dataset, overrides: Overrides, *, source: str
) -> ColumnMapping:
    """Map a sheet's header labels to the dataset's fields.

    Raises:
        FeedValidationError: a required field has no column; the message names the file,
            the columns found, the fields expected and the closest matches.
    """
    spellings = _spellings(dataset, overrides)
    fields: dict[str, int] = {}
    units: dict[str, str] = {}
    dropped: list[str] = []
    duplicates: list[str] = []
    for index, label in enumerate(columns):
        if not label.strip():
            continue
        target = next((spellings[c] for c in _candidates(label) if c in spellings), None)
        if target is None:
            dropped.append(label)
        elif target in fields:
            duplicates.append(label)
        else:
            fields[target] = index
            unit = label_unit(label)
            if unit:
                units[target] = unit
    missing = [spec for spec in dataset.required_fields() if spec.name not in fields]
    if missing:
        expected = ", ".join(f"{spec.name} ({spec.label_zh})" for spec in missing)
        hints = []
        for spec in missing:
            close = difflib.get_close_matches(
                spec.label_zh, [c for c in columns if c], n=2, cutoff=0.3
            ) or difflib.get_close_matches(
                normalise_label(spec.label_zh),
                [normalise_label(c) for c in dropped],
                n=2,
                cutoff=0.3,
            )
            if close:
                hints.append(f"{spec.name} ≈ {'/'.join(close)}")
        hint = f"; closest matches: {', '.join(hints)}" if hints else ""
        raise FeedValidationError(
            f"{source}: dataset '{dataset.name}' needs column(s) {expected}; columns found: "
            f"{', '.join(c for c in columns if c) or '(none)'}{hint}; map odd names in "
            f"{OVERRIDES_FILE} under columns.{dataset.name}"
        )
    return ColumnMapping(dataset.name, fields, units, dropped, duplicates)


def recognise_dataset(
    columns: list[str], catalog: Catalog, overrides: Overrides, *, source: str
) -> Dataset:
    """Guess the dataset of a feed from its columns (when its path does not say).

    The dataset whose required fields are all present and which matches the most columns
    wins.

    Raises:
        FeedValidationError: no dataset fits; names the file, its columns and the datasets
            that came closest.
    """
    scored: list[tuple[int, int, str]] = []
    for dataset in catalog.datasets:
        spellings = _spellings(dataset, overrides)
        hits = {
            spellings[c] for label in columns if label for c in _candidates(label) if c in spellings
        }
        required = {spec.name for spec in dataset.required_fields()}
        scored.append((len(required - hits), -len(hits), dataset.name))
    scored.sort()
    best_missing, best_hits, best_name = scored[0]
    if best_missing == 0 and best_hits < 0:
        return catalog.dataset(best_name)
    closest = ", ".join(f"{name} (missing {m} required)" for m, _, name in scored[:3])
    raise FeedValidationError(
        f"{source}: unknown feed: cannot tell its dataset from the path "
        "(expected <department>/<dataset>/<period>.<ext>) or its columns "
        f"({', '.join(c for c in columns if c) or 'none'}); closest datasets: {closest}"
    )


def as_dict(mapping: ColumnMapping, columns: list[str]) -> dict[str, Any]:
    """The mapping as JSON-ready data for the batch ledger (field → original label)."""
    return {name: columns[index] for name, index in mapping.fields.items()}
