"""Writing the panel to the warehouse: whole periods at a time, atomically."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dixian.console import progress_bar
from dixian.engine import STAGED_SUFFIX, swap_in_staged
from dixian.features.builder import (
    FeatureSettings,
    build_household_period,
    drop_intermediates,
    membership_periods,
    period_index,
    period_name,
)
from dixian.features.panel_schema import PANEL_COLUMNS, PANEL_TABLE, check_panel_table

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def update_household_period(
    backend: BaseBackend,
    *,
    periods: Sequence[str] | None = None,
    rebuild: bool = False,
    settings: FeatureSettings | None = None,
    complete_windows_only: bool = True,
) -> dict[str, object]:
    """Build the panel for new (or given) periods and store it as `household_period`.

    The periods built replace their earlier rows; other periods are kept. The new table is
    written under a temporary name and renamed over the old one, so a failed run leaves the
    previous panel as it was.

    Args:
        backend: the warehouse.
        periods: periods 'YYYY-MM' to (re)build; default: those not in the panel yet.
        rebuild: rebuild every period.
        settings: assumptions of the builder.
        complete_windows_only: skip the first months, whose 12-month window would reach back
            before the first data.

    Returns:
        Figures: periods built, rows written, households, total rows.
    """
    available = membership_periods(backend)
    settings = settings or FeatureSettings()
    if complete_windows_only:
        # A period whose 12-month window starts before the first data would understate income.
        available = available[settings.window_months - 1 :]
    existing_panel = PANEL_TABLE in backend.list_tables() and not rebuild
    if existing_panel and _stored_columns(backend) != [column.name for column in PANEL_COLUMNS]:
        # A panel stored by an earlier version has other columns: every period is rebuilt.
        existing_panel, periods = False, None
    done: set[str] = set()
    if existing_panel:
        done = {
            str(p)
            for p in backend.table(PANEL_TABLE).select("period").distinct().to_pyarrow()["period"]
        }
    wanted = sorted(set(periods) if periods else set(available) - done)
    figures: dict[str, object] = {"periods_built": len(wanted), "periods": wanted}
    if not wanted:
        figures.update(rows_written=0, rows_total=backend.table(PANEL_TABLE).count().execute())
        return figures
    # Year-on-year change needs the same period a year earlier in the same build.
    with_history = sorted(
        {*wanted, *(period_name(period_index(p) - 12) for p in wanted)} & set(available)
    )
    report: dict[str, object] = {}
    staging_name = f"{PANEL_TABLE}{STAGED_SUFFIX}"
    with progress_bar("一户一档 household-period panel", None) as advance:
        try:
            built = build_household_period(
                backend,
                periods=with_history,
                settings=settings,
                report=report,
                step=lambda name: advance(1, f"一户一档 {name}"),
            )
            built = built.filter(built.period.isin(wanted))
            check_panel_table(built)
            combined = built
            if existing_panel:
                kept = backend.table(PANEL_TABLE)
                combined = kept.filter(~kept.period.isin(wanted)).union(built)
            backend.create_table(staging_name, combined, overwrite=True)
            advance(1, "一户一档 written")
        finally:
            # Before the swap: a 1,000,000-person county's intermediates spill about 23 GB.
            drop_intermediates(backend)
    # Renamed, not copied: a 1,000,000-person county's 25-month panel is about 15 GB, and a
    # copy of it ran the disk full after a 35-minute build (bench/RESULTS.md, features).
    swap_in_staged(backend, [PANEL_TABLE])
    stored = backend.table(PANEL_TABLE)
    figures.update(
        **report,
        rows_written=int(stored.filter(stored.period.isin(wanted)).count().execute()),
        rows_total=int(stored.count().execute()),
        households=int(stored.household_id.nunique().execute()),
    )
    return figures


def _stored_columns(backend: BaseBackend) -> list[str]:
    return list(backend.table(PANEL_TABLE).columns)
