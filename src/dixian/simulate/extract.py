"""What each department knows: the world turned into clean rows of every catalog dataset.

Each extractor returns batches (one per period) whose columns are the dataset's standard
field names with clean values (code-list codes, dates, yuan amounts), plus the true person
and household behind every row. `render.py` then writes them as departments would, with
noise. Only the visible years are exported; the hidden last year stays in the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dixian.simulate.measures import MEASURES
from dixian.simulate.official import CAUSES, TYPES
from dixian.simulate.state import Month, WorldState, month_of
from dixian.simulate.truth import membership_of_month

_RELATION_CODES = np.array(
    ["head", "spouse", "son", "child_in_law", "grandchild", "parent", "sibling", "daughter"]
)
_DISABILITY_TYPES = np.array(
    ["", "visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple"]
)
_HOUSING = np.array(["A", "B", "C", "D"])
_ETHNICITY = np.array(["汉族", "苗族", "布依族", "侗族", "土家族", "彝族", "仡佬族"])
_ETHNICITY_P = np.array([0.62, 0.12, 0.08, 0.06, 0.05, 0.04, 0.03])
_WORK_PLACES = np.array(
    [
        "广东省东莞市",
        "广东省深圳市",
        "浙江省宁波市",
        "浙江省温州市",
        "福建省泉州市",
        "贵州省贵阳市",
        "江苏省苏州市",
        "上海市",
    ]
)
_BANKS = np.array(["农村信用社", "中国农业银行", "中国邮政储蓄银行", "中国建设银行", "村镇银行"])


@dataclass
class Batch:
    """Clean rows of one dataset for one period."""

    period: str
    columns: dict[str, np.ndarray]
    person: np.ndarray
    household: np.ndarray
    # Rows that should also carry a stale region (previous village) for noise.
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.person.size)


class Extractor:
    """Shared lookups over a finished world."""

    def __init__(self, state: WorldState, years: int, seed_rng: np.random.Generator) -> None:
        self.s = state
        self.visible = 12 * years
        self.rng = seed_rng
        g = state.geography
        n_h = state.n_households
        self.village_code = g.village_code[state.households["village"][:n_h]]
        self.village_name = g.village_name[state.households["village"][:n_h]]
        self.township_name = g.township_name[g.village_township[state.households["village"][:n_h]]]
        self.ethnicity = _ETHNICITY[self.rng.choice(7, n_h, p=_ETHNICITY_P)]
        group = self.rng.integers(1, 9, n_h)
        door = self.rng.integers(1, 120, n_h)
        self.address = np.char.add(
            np.char.add(
                np.char.add(state.geography.county_name, self.township_name), self.village_name
            ),
            np.char.add(np.char.add(group.astype(str), "组"), np.char.add(door.astype(str), "号")),
        )
        self.household_number = np.char.zfill((np.arange(n_h) + 1 + 10_000_000).astype(str), 9)
        self.registry_number = np.char.add(
            state.geography.county_code, np.char.zfill((np.arange(n_h) * 7 + 1301).astype(str), 8)
        )
        male = state.p("male")
        relation = state.p("relation")
        self.male = male
        self.relation = relation
        self._labels: dict[str, dict[str, str]] = {}
        # Where a person lived before moving by marriage (departments keep stale addresses).
        self.previous_region = np.full(state.n_persons, "", dtype="U12")
        marriages = state.log_table("marriage")
        if marriages is not None:
            movers = marriages["person"].to_numpy()
            origin = marriages["from_household"].to_numpy()
            self.previous_region[movers] = self.village_code[origin]

    def zh(self, code_list: str, code: str) -> str:
        """The Chinese label of a code (free-text fields list causes and measures in Chinese)."""
        if not self._labels:
            from dixian.standards import load_catalog

            catalog = load_catalog()
            for name in ("cause", "measure"):
                self._labels[name] = {c.code: c.zh for c in catalog.code_list(name).codes}
        return self._labels[code_list].get(code, code)

    @staticmethod
    def relation_code_of(relation: np.ndarray, male: np.ndarray) -> np.ndarray:
        """Relation codes of the data standard (a child is a son or a daughter)."""
        codes: np.ndarray = np.where((relation == 2) & ~male, "daughter", _RELATION_CODES[relation])
        return codes

    def members(self, month_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(person rows, household rows, relation) of the living at the end of a month."""
        chunk = membership_of_month(self.s, month_index)
        return chunk["person"], chunk["household"], chunk["relation"]

    def month(self, index: int) -> Month:
        return month_of(self.s.start, index)

    def identity(self, persons: np.ndarray, households: np.ndarray) -> dict[str, np.ndarray]:
        """Identity fields of persons in their household at the time."""
        s = self.s
        return {
            "id_number": s.persons["id_number"][persons],
            "name": s.persons["name"][persons].astype(str),
            "sex": np.where(s.persons["male"][persons], "M", "F"),
            "birth_date": s.persons["birth"][persons],
            "region_code": self.village_code[households],
            "_previous_region": self.previous_region[persons],
        }

    def events(self, kind: str) -> dict[str, np.ndarray]:
        table = self.s.log_table(kind)
        if table is None:
            return {}
        return {name: table[name].to_numpy(zero_copy_only=False) for name in table.column_names}

    def in_visible(self, dates: np.ndarray) -> np.ndarray:
        end = month_of(self.s.start, self.visible).start
        return dates < end

    def month_index_of(self, dates: np.ndarray) -> np.ndarray:
        start_m = self.s.start.astype("datetime64[M]")
        result: np.ndarray = (dates.astype("datetime64[M]") - start_m).astype(np.int64)
        return result

    def by_month(self, dates: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Row indexes grouped by the month of their date, visible months only."""
        idx = self.month_index_of(dates)
        out = []
        for m in range(self.visible):
            rows = np.flatnonzero(idx == m)
            if rows.size:
                out.append((m, rows))
        return out


def _period(ex: Extractor, m: int, yearly: bool = False) -> str:
    month = ex.month(m)
    return f"{month.year:04d}" if yearly else month.period


def household_registration(ex: Extractor) -> Iterator[Batch]:
    """January: the full register; other months: births, deaths and moves."""
    s = ex.s
    births = ex.events("birth")
    deaths = ex.events("death")
    moves = ex.events("marriage")
    splits = ex.events("split")
    for m in range(ex.visible):
        month = ex.month(m)
        members_p, _members_h, members_r = ex.members(m)
        parts_p, parts_h, parts_s, parts_d = [], [], [], []
        if month.month == 1:
            # January: the whole register at the month's end (deaths of January follow).
            parts_p.append(members_p)
            parts_h.append(_members_h)
            parts_s.append(np.full(members_p.size, "normal"))
            parts_d.append(np.full(members_p.size, np.datetime64("NaT"), dtype="datetime64[D]"))
            changes: tuple[tuple[dict[str, np.ndarray], str, str], ...] = (
                (deaths, "deceased", "household"),
            )
        else:
            changes = (
                (births, "normal", "household"),
                (deaths, "deceased", "household"),
                (moves, "moved_out", "from_household"),
                (moves, "normal", "to_household"),
                (splits, "normal", "to_household"),
            )
        for events, status_code, hh_key in changes:
            if not events:
                continue
            rows = np.flatnonzero(ex.month_index_of(events["date"]) == m)
            parts_p.append(events["person"][rows])
            parts_h.append(events[hh_key][rows])
            parts_s.append(np.full(rows.size, status_code))
            parts_d.append(events["date"][rows])
        persons = np.concatenate(parts_p).astype(np.int64)
        if persons.size == 0:
            continue
        households = np.concatenate(parts_h).astype(np.int64)
        status = np.concatenate(parts_s)
        status_date = np.concatenate(parts_d)
        rel_lookup = np.full(s.n_persons, -1, dtype=np.int64)
        rel_lookup[members_p] = members_r
        relation = np.where(
            rel_lookup[persons] >= 0, rel_lookup[persons], s.persons["relation"][persons]
        )
        cols = ex.identity(persons, households)
        cols.update(
            {
                "ethnicity": ex.ethnicity[households],
                "household_number": ex.household_number[households],
                "relation_to_head": ex.relation_code_of(
                    relation.astype(np.int64), s.persons["male"][persons]
                ),
                "address": ex.address[households],
                "registration_status": status,
                "status_date": status_date,
            }
        )
        yield Batch(_period(ex, m), cols, persons, households)


def _status_at(ex: Extractor, m: int) -> dict[str, np.ndarray]:
    chunk = ex.s.logs["status"][m]
    assert int(chunk["month"][0]) == m
    return chunk


def poverty_registry(ex: Extractor) -> Iterator[Batch]:
    """January: every registered household's members; other months: households whose
    monitoring status changed."""
    s = ex.s
    h = s.households
    process = ex.events("process")
    series = s.series
    identified_date = np.full(s.n_households, np.datetime64("NaT"), dtype="datetime64[D]")
    eliminated_date = identified_date.copy()
    measures_text: dict[int, list[str]] = {}
    for m in range(ex.visible):
        month = ex.month(m)
        status = _status_at(ex, m)
        n_h_m = status["household"].size
        changed = np.zeros(n_h_m, dtype=bool)
        if process:
            # Cases identified before the simulation started count from the first month.
            rows = np.flatnonzero(np.maximum(ex.month_index_of(process["date"]), 0) == m)
            for event, hh, date, detail in zip(
                process["event"][rows],
                process["household"][rows],
                process["date"][rows],
                process["detail"][rows],
                strict=True,
            ):
                if event in ("identified", "re_identified"):
                    identified_date[hh] = date
                    eliminated_date[hh] = np.datetime64("NaT")
                    changed[hh] = hh < n_h_m
                elif event == "risk_eliminated":
                    eliminated_date[hh] = date
                    changed[hh] = hh < n_h_m
                elif event == "measure":
                    measures_text.setdefault(int(hh), []).append(str(detail))
        mon_state = status["mon_state"]
        registered = h["formerly_poor"][:n_h_m] | (mon_state > 0)
        chosen = registered if month.month == 1 else (changed & registered)
        households_sel = np.flatnonzero(chosen)
        if households_sel.size == 0:
            continue
        persons, households, relation = ex.members(m)
        keep = np.isin(households, households_sel)
        persons, households, relation = persons[keep], households[keep], relation[keep]
        size = np.bincount(households, minlength=n_h_m)
        st = mon_state[households]
        registry_status = np.where(
            (st == 1) | (st == 3),
            "monitored",
            np.where(
                st == 2,
                "risk_eliminated",
                np.where(h["formerly_poor"][households], "exited_poverty", "ordinary"),
            ),
        )
        lo = max(0, m - 11)
        income = (
            sum(
                series[k][lo : m + 1, :n_h_m].sum(axis=0, dtype=np.float64)
                for k in ("wages", "business", "property", "transfers")
            )
            * 12.0
            / (m - lo + 1)
        )
        pc = np.divide(income, size, out=np.zeros(n_h_m), where=size > 0)
        # The declared income is the household's (one value for all its members), with the
        # error of a self-declared figure.
        declared = np.round(pc * ex.rng.normal(1.0, 0.08, pc.size), 0)[households]
        cause = h["primary_cause"][households]
        secondary = h["secondary_causes"][households]
        masks, mask_index = np.unique(secondary, return_inverse=True)
        mask_text = np.array(
            [
                "、".join(
                    ex.zh("cause", str(CAUSES[b])) for b in range(len(CAUSES)) if (v >> b) & 1
                )
                for v in masks.tolist()
            ]
            + [""]
        )
        second_text = mask_text[mask_index] if households.size else mask_text[:0]
        listed, listed_index = np.unique(households, return_inverse=True)
        measure_text = np.array(
            ["、".join(ex.zh("measure", c) for c in measures_text.get(int(x), [])) for x in listed]
            + [""]
        )
        attribute = np.where(
            h["tekun"][households], "tekun", np.where(h["dibao"][households], "dibao", "general")
        )
        cols = ex.identity(persons, households)
        del cols["birth_date"]
        cols.update(
            {
                "registry_household_id": ex.registry_number[households],
                "relation_to_head": ex.relation_code_of(
                    relation.astype(np.int64), s.persons["male"][persons]
                ),
                "household_size": size[households],
                "registry_status": registry_status,
                "monitoring_type": np.where(st > 0, TYPES[h["mon_type"][households]], ""),
                "household_attribute": attribute,
                "primary_cause": np.where(cause >= 0, CAUSES[np.maximum(cause, 0)], ""),
                "secondary_causes": second_text,
                "identified_date": identified_date[households],
                "risk_eliminated_date": eliminated_date[households],
                "exit_year": np.where(
                    h["formerly_poor"][households], h["exit_year"][households], 0
                ),
                "annual_net_income_per_capita": declared,
                "land_area_mu": h["land_mu"][households],
                "measures_received": measure_text[listed_index]
                if households.size
                else measure_text[:0],
                "report_month": np.full(persons.size, month.start),
            }
        )
        yield Batch(_period(ex, m), cols, persons, households)


MEASURE_CODES = MEASURES
EXTRACTORS: dict[str, Callable[[Extractor], Iterator[Batch]]] = {
    "household_registration": household_registration,
    "poverty_registry": poverty_registry,
}
