"""Department feeds: every catalog dataset written as batches with noise, and the truth
mapping of every feed row (source_file, sheet, row_number) to the true person and household.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dixian.simulate import (
    extract,
    extract_assets,
    extract_credit,
    extract_services,
    extract_social,
)
from dixian.simulate._columns import render_column
from dixian.simulate._rng import component_rng
from dixian.simulate.extract import Batch, Extractor
from dixian.simulate.noise import BIT, NoiseProfile, noise_lists
from dixian.simulate.render import choose_style, write_table
from dixian.simulate.state import WorldState
from dixian.standards import Catalog, Dataset

EXTRACTORS: dict[str, Callable[[Extractor], Iterator[Batch]]] = {
    **extract.EXTRACTORS,
    "civil_affairs_assistance": extract_social.civil_affairs_assistance,
    "pensions": extract_social.pensions,
    "employment": extract_social.employment,
    "public_payroll": extract_social.public_payroll,
    "tax_and_provident_fund": extract_social.tax_and_provident_fund,
    "deposits": extract_social.deposits,
    "microcredit_loans": extract_credit.microcredit_loans,
    "medical_claims": extract_services.medical_claims,
    "chronic_illness": extract_services.chronic_illness,
    "students": extract_services.students,
    "disability": extract_services.disability,
    "house_safety": extract_assets.house_safety,
    "drinking_water": extract_assets.drinking_water,
    "disaster_losses": extract_assets.disaster_losses,
    "real_estate": extract_assets.real_estate,
    "vehicles": extract_assets.vehicles,
    "business_registration": extract_assets.business_registration,
}
FEED_ROWS_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("sheet", pa.string()),
        ("row_number", pa.int64()),
        ("dataset", pa.string()),
        ("true_person_id", pa.int64()),
        ("true_household_id", pa.int64()),
        ("noise", pa.list_(pa.string())),
    ]
)
_EXT = {"parquet": "parquet", "xlsx": "xlsx", "xlsx_title": "xlsx", "xlsx_merged": "xlsx"}


@dataclass
class FeedSummary:
    """What was written."""

    files: int
    rows: int
    rows_by_dataset: dict[str, int]


def write_feeds(
    state: WorldState,
    *,
    years: int,
    feeds_dir: Path,
    catalog: Catalog,
    profile: NoiseProfile,
    seed: int,
    feed_rows_path: Path,
    progress: Callable[[int, str], None] | None = None,
) -> FeedSummary:
    """Write every dataset of the catalog under feeds_dir/<department>/<dataset>/, and the
    truth of every feed row to `feed_rows_path` (streamed, one row group per batch)."""
    missing = sorted(set(catalog.dataset_names()) - set(EXTRACTORS))
    if missing:
        raise RuntimeError(f"the simulator has no extractor for dataset(s) {missing}")
    ex = Extractor(state, years, component_rng(seed, "feeds:lookups"))
    feed_rows_path.parent.mkdir(parents=True, exist_ok=True)
    writer = pq.ParquetWriter(
        feed_rows_path,
        FEED_ROWS_SCHEMA,
        compression="zstd",
        compression_level=1,
        write_statistics=False,
    )
    total = 0
    rows_by_dataset: dict[str, int] = {}
    files = 0
    for dataset in catalog.datasets:
        ex.rng = component_rng(seed, f"feeds:extract:{dataset.name}")
        batches = (_broadcast(b) for b in EXTRACTORS[dataset.name](ex) if b.size)
        rng = component_rng(seed, f"feeds:render:{dataset.name}")
        prepared = _late_duplicates(batches, profile, rng)
        count = 0
        for batch, tags, correction in prepared:
            jobs: list[tuple[str | None, Batch, np.ndarray]] = [(None, batch, tags)]
            if correction is not None:
                jobs.append(("correction", correction[0], correction[1]))
            for suffix, b, t in jobs:
                if b.size == 0:
                    continue
                truth, written = _write_batch(
                    state, ex, dataset, b, t, catalog, profile, rng, feeds_dir, suffix=suffix
                )
                writer.write_table(truth)
                count += written
                total += written
                files += 1
        rows_by_dataset[dataset.name] = count
        if progress is not None:
            progress(1, dataset.name)
    writer.close()
    return FeedSummary(files, total, rows_by_dataset)


def _late_duplicates(
    batches: Iterable[Batch], profile: NoiseProfile, rng: np.random.Generator
) -> Iterator[tuple[Batch, np.ndarray, tuple[Batch, np.ndarray] | None]]:
    """Move late rows to the next batch, duplicate rows, and split off corrections.

    Streams: one batch is held back to know whether a next one exists (the last batch has
    no late rows, there being no later batch to carry them).
    """
    carry: list[tuple[Batch, np.ndarray]] = []
    iterator = iter(batches)
    batch = next(iterator, None)
    while batch is not None:
        following = next(iterator, None)
        n = batch.size
        u = rng.uniform(0, 1, (3, n))
        late = (u[0] < profile.late) & (following is not None)
        keep = np.flatnonzero(~late)
        dup = keep[u[1][keep] < profile.duplicate]
        order = np.sort(np.concatenate([keep, dup]))
        parts = [_take(batch, order)]
        tags = np.zeros(order.size, dtype=np.uint32)
        # The second of two equal indexes is the copy.
        is_dup = np.zeros(order.size, dtype=bool)
        is_dup[1:] = order[1:] == order[:-1]
        tags[is_dup] |= BIT["duplicate"]
        for previous, rows in carry:
            parts.append(_take(previous, rows))
            tags = np.concatenate([tags, np.full(rows.size, BIT["late"], dtype=np.uint32)])
        carry = [(batch, np.flatnonzero(late))] if late.any() else []
        merged = _concat(batch.period, parts)
        correction = None
        fix = np.flatnonzero(rng.uniform(0, 1, merged.size) < profile.corrected)
        if fix.size:
            correction = (_take(merged, fix), np.full(fix.size, BIT["correction"], dtype=np.uint32))
            tags[fix] |= BIT["corrected_later"]
        yield merged, tags, correction
        batch = following


def _broadcast(batch: Batch) -> Batch:
    """Columns given as one value for all rows become full arrays."""
    n = batch.size
    columns = {
        k: (np.full(n, v.item() if isinstance(v, np.ndarray) else v) if np.ndim(v) == 0 else v)
        for k, v in batch.columns.items()
    }
    return Batch(batch.period, columns, batch.person, batch.household)


def _take(batch: Batch, rows: np.ndarray) -> Batch:
    return Batch(
        batch.period,
        {k: v[rows] for k, v in batch.columns.items()},
        batch.person[rows],
        batch.household[rows],
    )


def _concat(period: str, parts: list[Batch]) -> Batch:
    keys = list(parts[0].columns)
    return Batch(
        period,
        {k: np.concatenate([p.columns[k] for p in parts]) for k in keys},
        np.concatenate([p.person for p in parts]),
        np.concatenate([p.household for p in parts]),
    )


def _write_batch(
    state: WorldState,
    ex: Extractor,
    dataset: Dataset,
    batch: Batch,
    tags: np.ndarray,
    catalog: Catalog,
    profile: NoiseProfile,
    rng: np.random.Generator,
    feeds_dir: Path,
    *,
    suffix: str | None,
) -> tuple[pa.Table, int]:
    style = choose_style(
        dataset,
        batch.size,
        rng,
        date_variant=profile.date_variant_batches,
        amount_wan=profile.amount_wan_batches,
        village_names=profile.village_name_batches,
    )
    noisy = suffix is None
    corrupt = np.flatnonzero(tags & BIT["corrected_later"]) if noisy else np.zeros(0, np.int64)
    headers, columns = [], []
    g = state.geography
    for spec in dataset.fields:
        values = batch.columns.get(spec.name)
        if values is None:
            values = np.full(batch.size, "", dtype=object)
        columns.append(
            render_column(
                spec,
                values,
                style=style,
                catalog=catalog,
                geography=g,
                profile=profile,
                rng=rng,
                tags=tags,
                noisy=noisy,
                corrupt=corrupt,
                previous_region=batch.columns.get("_previous_region"),
            )
        )
        headers.append(style.columns[spec.name])
    ext = _EXT.get(style.file_format, "csv")
    name = f"{batch.period}.{suffix}.{ext}" if suffix else f"{batch.period}.{ext}"
    relative = Path(dataset.department) / dataset.name / name
    town = (
        g.village_township[state.households["village"][np.maximum(batch.household, 0)]]
        if batch.size
        else np.zeros(0, int)
    )
    title = f"{g.county_name}{dataset.label_zh}（{batch.period}）"
    sheet_rows = write_table(
        feeds_dir / relative,
        headers,
        columns,
        style=style,
        title=title,
        sheets=town,
        sheet_names=[str(x) for x in g.township_name],
    )
    # Rows were written grouped by sheet, in order within each sheet.
    if style.file_format.startswith("xlsx") and style.split_sheets:
        order = (
            np.concatenate([np.flatnonzero(town == k) for k in np.unique(town)])
            if batch.size
            else np.zeros(0, int)
        )
    else:
        order = np.arange(batch.size)
    sheet_col, number_col = [], []
    for sheet, count in sheet_rows:
        sheet_col.extend([sheet if style.file_format.startswith("xlsx") else ""] * count)
        number_col.append(np.arange(1, count + 1))
    numbers = np.concatenate(number_col) if number_col else np.zeros(0, int)
    person = batch.person[order]
    household = batch.household[order]
    truth = pa.table(
        {
            "source_file": pa.array([relative.as_posix()] * batch.size, type=pa.string()),
            "sheet": pa.array(sheet_col, type=pa.string()),
            "row_number": pa.array(numbers, type=pa.int64()),
            "dataset": pa.array([dataset.name] * batch.size, type=pa.string()),
            "true_person_id": pa.array(
                np.where(person >= 0, person + 1, 0), mask=person < 0, type=pa.int64()
            ),
            "true_household_id": pa.array(
                np.where(household >= 0, household + 1, 0), mask=household < 0, type=pa.int64()
            ),
            "noise": noise_lists(tags[order]),
        },
        schema=FEED_ROWS_SCHEMA,
    )
    return truth, batch.size
