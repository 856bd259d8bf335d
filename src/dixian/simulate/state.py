"""The mutable state of the world during the month-by-month run.

Person and household arrays are padded to a capacity so births and household splits
append without copying; `n_persons` / `n_households` say how many rows are in use. Every
event is logged as arrays (one dict per month and kind) and concatenated at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from dixian.simulate.geography import Geography
from dixian.simulate.params import SimulationParams
from dixian.simulate.population import Population

MONTHLY_SERIES = (
    "wages",
    "business",
    "property",
    "transfers",
    "assistance",
    "medical_oop",
    "schooling",
    "disaster_loss",
)


@dataclass
class Month:
    """Calendar facts of one simulated month."""

    index: int
    start: np.datetime64
    end: np.datetime64
    year: int
    month: int

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def random_days(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Random dates within the month."""
        span = int((self.end - self.start).astype(int)) + 1
        return self.start + rng.integers(0, span, size).astype("timedelta64[D]")


def month_of(start: np.datetime64, index: int) -> Month:
    """The index-th month after the start month."""
    first = (start.astype("datetime64[M]") + index).astype("datetime64[D]")
    end = (start.astype("datetime64[M]") + index + 1).astype("datetime64[D]") - 1
    year = int(first.astype("datetime64[Y]").astype(int)) + 1970
    month = int(first.astype("datetime64[M]").astype(int)) % 12 + 1
    return Month(index, first, end, year, month)


def _pad(values: np.ndarray, capacity: int) -> np.ndarray:
    out = np.zeros(capacity, dtype=values.dtype)
    if values.dtype.kind == "M":
        out[:] = np.datetime64("NaT")
    out[: values.size] = values
    return out


@dataclass
class WorldState:
    """Persons, households, monthly money series and event logs."""

    geography: Geography
    params: SimulationParams
    start: np.datetime64
    months: int
    persons: dict[str, np.ndarray]
    households: dict[str, np.ndarray]
    n_persons: int
    n_households: int
    series: dict[str, np.ndarray] = field(default_factory=dict)
    logs: dict[str, list[dict[str, np.ndarray]]] = field(default_factory=dict)

    @classmethod
    def from_population(
        cls,
        pop: Population,
        *,
        geography: Geography,
        params: SimulationParams,
        start: np.datetime64,
        months: int,
    ) -> WorldState:
        years = months / 12.0
        person_capacity = int(pop.n_persons * (1.02 + 0.015 * years)) + 64
        household_capacity = int(pop.n_households * (1.05 + 0.05 * years)) + 64
        persons = {k: _pad(v, person_capacity) for k, v in pop.persons.items()}
        households = {k: _pad(v, household_capacity) for k, v in pop.households.items()}
        state = cls(
            geography=geography,
            params=params,
            start=start,
            months=months,
            persons=persons,
            households=households,
            n_persons=pop.n_persons,
            n_households=pop.n_households,
        )
        for name in MONTHLY_SERIES:
            state.series[name] = np.zeros((months, household_capacity), dtype=np.float32)
        return state

    def p(self, name: str) -> np.ndarray:
        """The used part of a person column (a view)."""
        return self.persons[name][: self.n_persons]

    def h(self, name: str) -> np.ndarray:
        """The used part of a household column (a view)."""
        return self.households[name][: self.n_households]

    def add_persons(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Append persons; returns their row indexes."""
        count = next(iter(columns.values())).size
        self._ensure_capacity(self.persons, self.n_persons + count)
        rows = np.arange(self.n_persons, self.n_persons + count)
        for key, values in columns.items():
            self.persons[key][rows] = values
        self.persons["person_id"][rows] = rows + 1
        self.n_persons += count
        return rows

    def add_households(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Append households; returns their row indexes."""
        count = next(iter(columns.values())).size
        before = next(iter(self.households.values())).size
        self._ensure_capacity(self.households, self.n_households + count)
        after = next(iter(self.households.values())).size
        if after != before:
            for name, values in self.series.items():
                grown = np.zeros((values.shape[0], after), dtype=values.dtype)
                grown[:, : values.shape[1]] = values
                self.series[name] = grown
        rows = np.arange(self.n_households, self.n_households + count)
        for key, values in columns.items():
            self.households[key][rows] = values
        self.households["household_id"][rows] = rows + 1
        self.n_households += count
        return rows

    @staticmethod
    def _ensure_capacity(columns: dict[str, np.ndarray], needed: int) -> None:
        capacity = next(iter(columns.values())).size
        if needed <= capacity:
            return
        new_capacity = max(needed, int(capacity * 1.25))
        for key, values in columns.items():
            columns[key] = _pad(values, new_capacity)

    def log(self, event_kind: str, /, **columns: np.ndarray) -> None:
        """Record events of one kind as equally long arrays."""
        lengths = {np.asarray(v).size for v in columns.values()}
        if lengths == {0}:
            return
        self.logs.setdefault(event_kind, []).append({k: np.asarray(v) for k, v in columns.items()})

    def log_table(self, kind: str) -> pa.Table | None:
        """All events of one kind as an Arrow table (None when there were none)."""
        chunks = self.logs.get(kind)
        if not chunks:
            return None
        return pa.table({k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]})

    def members_count(self) -> np.ndarray:
        """Living members per household."""
        alive = self.p("alive")
        return np.bincount(self.p("household")[alive], minlength=self.n_households).astype(np.int64)
