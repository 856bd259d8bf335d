"""Extractors for housing, water, disasters, real estate, vehicles and businesses."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dixian.simulate.extract import _HOUSING, Batch, Extractor, _period
from dixian.simulate.extract_services import _PLATES

# Shares of register rows without the owner's address. The traffic police take the owner's
# domicile (住所地址, as on the ID card or hukou) at every registration, a required item of the
# registration form, so only rows migrated from older systems lack it. The real-estate
# register's contact address (权利人通讯地址) is an optional box of the application form, left
# empty more often.
VEHICLE_ADDRESS_BLANK = 0.02
REAL_ESTATE_ADDRESS_BLANK = 0.10


def _heads_at(ex: Extractor, m: int, households: np.ndarray) -> np.ndarray:
    persons, hh, relation = ex.members(m)
    lookup = np.full(ex.s.n_households, -1, dtype=np.int64)
    lookup[hh[relation == 0]] = persons[relation == 0]
    result: np.ndarray = lookup[households]
    return result


def house_safety(ex: Extractor) -> Iterator[Batch]:
    """Yearly assessments of houses, and the acceptance of each renovation when it is done.

    Each June the housing department rates the houses of registered households and every house
    rated C or D. A renovation (危房改造 or the owner's own repair) ends with an acceptance
    check (竣工验收) that rates the house safe on the day it is done, so the department's
    records show a cleared house from then on, not only at the next yearly assessment.
    """
    s = ex.s
    rng = ex.rng
    renovation = ex.events("renovation")
    for year_index in range(ex.visible // 12):
        m = 12 * year_index + 5
        month = ex.month(m)
        status = s.logs["status"][m]
        grade = status["housing_grade"]
        mon = status["mon_state"]
        hh = status["household"].astype(np.int64)
        sel = s.households["formerly_poor"][hh] | (mon > 0) | (grade >= 2)
        hh, grade = hh[sel], grade[sel]
        heads = _heads_at(ex, m, hh)
        ok = heads >= 0
        hh, grade, heads = hh[ok], grade[ok], heads[ok]
        renovated_on = np.full(hh.size, np.datetime64("NaT"), dtype="datetime64[D]")
        accepted: dict[str, np.ndarray] = {}
        if renovation:
            done = renovation["date"] < month.end
            lookup = np.full(s.n_households, np.datetime64("NaT"), dtype="datetime64[D]")
            lookup[renovation["household"][done]] = renovation["date"][done]
            # A house rated C or D again was damaged after its renovation: the rating stands.
            renovated_on = np.where(grade >= 2, np.datetime64("NaT"), lookup[hh])
            accepted = _renovations_in_year(ex, renovation, year_index)
        rows = {
            "household": hh,
            "head": heads,
            "rating": _HOUSING[grade],
            "date": month.random_days(hh.size, rng),
            "renovated": ~np.isnat(renovated_on),
            "renovation_date": renovated_on,
        }
        if accepted:
            rows = {name: np.concatenate([rows[name], accepted[name]]) for name in rows}
        ident = ex.identity(rows["head"], rows["household"])
        cols = {
            "owner_id_number": ident["id_number"],
            "owner_name": ident["name"],
            "region_code": ident["region_code"],
            "address": ex.address[rows["household"]],
            "safety_rating": rows["rating"],
            "assessment_date": rows["date"],
            "renovated": rows["renovated"],
            "renovation_date": rows["renovation_date"],
        }
        yield Batch(f"{month.year:04d}", cols, rows["head"], rows["household"])


def _renovations_in_year(
    ex: Extractor, renovation: dict[str, np.ndarray], year_index: int
) -> dict[str, np.ndarray]:
    """Acceptance rows (rated A on the renovation day) of the year's visible renovations."""
    months = ex.month_index_of(renovation["date"])
    mine = np.flatnonzero(
        (months >= 12 * year_index) & (months < 12 * year_index + 12) & (months < ex.visible)
    )
    hh = renovation["household"][mine].astype(np.int64)
    dates = renovation["date"][mine]
    heads = np.full(hh.size, -1, dtype=np.int64)
    for m in np.unique(months[mine]).tolist():
        at = months[mine] == m
        heads[at] = _heads_at(ex, int(m), hh[at])
    ok = heads >= 0
    return {
        "household": hh[ok],
        "head": heads[ok],
        "rating": np.full(int(ok.sum()), _HOUSING[0]),
        "date": dates[ok],
        "renovated": np.ones(int(ok.sum()), dtype=bool),
        "renovation_date": dates[ok],
    }


def drinking_water(ex: Extractor) -> Iterator[Batch]:
    """Yearly water-safety assessment per village."""
    g = ex.s.geography
    rng = ex.rng
    for year_index in range(ex.visible // 12):
        month = ex.month(12 * year_index + 10)
        improving = rng.uniform(0, 1, g.n_villages) < 0.15 * (year_index + 1)
        safe = g.water_supply | improving
        cols = {
            "region_code": g.village_code,
            "water_safety": np.where(
                safe,
                np.where(rng.uniform(0, 1, g.n_villages) < 0.8, "safe", "basically_safe"),
                "unsafe",
            ),
            "supply_type": np.where(
                safe,
                "piped",
                np.where(rng.uniform(0, 1, g.n_villages) < 0.8, "decentralised", "none"),
            ),
            "households_covered_share": np.round(
                np.where(
                    safe, rng.uniform(0.9, 1.0, g.n_villages), rng.uniform(0.3, 0.8, g.n_villages)
                ),
                3,
            ),
            "assessment_date": month.random_days(g.n_villages, rng),
        }
        none = np.full(g.n_villages, -1, dtype=np.int64)
        yield Batch(f"{month.year:04d}", cols, none, none)


def disaster_losses(ex: Extractor) -> Iterator[Batch]:
    """Affected households, pushed after each event (batched by month)."""
    events = ex.events("disaster")
    if not events:
        return
    for m, rows in ex.by_month(events["date"]):
        hh = events["household"][rows]
        heads = _heads_at(ex, m, hh)
        ok = heads >= 0
        rows, hh, heads = rows[ok], hh[ok], heads[ok]
        ident = ex.identity(heads, hh)
        cols = {
            "head_id_number": ident["id_number"],
            "head_name": ident["name"],
            "region_code": ident["region_code"],
            "disaster_type": events["kind"][rows],
            "event_date": events["date"][rows],
            "direct_loss": np.round(events["loss"][rows], 0),
            "house_damaged": events["house_damaged"][rows],
            "crop_area_affected_mu": events["crop_mu"][rows],
        }
        yield Batch(_period(ex, m), cols, heads, hh)


def _owner_address(ex: Extractor, households: np.ndarray, blank_share: float) -> np.ndarray:
    """The owner's household-registration address at the row's date, blank on a share of rows.

    Written in the household register's own form (the same text as its `address`): the owner
    gives the address of their hukou, which is the household they belong to at registration.
    """
    address: np.ndarray = ex.address[households].astype(object)
    address[ex.rng.uniform(0, 1, households.size) < blank_share] = ""
    return address


def _asset_batches(
    ex: Extractor, kind: str, initial: np.ndarray | None, build: object
) -> Iterator[Batch]:
    events = ex.events(kind)
    for m in range(ex.visible):
        parts_p, parts_h, parts_d, parts_v, parts_x = [], [], [], [], []
        if m == 0 and initial is not None:
            hh = initial
            heads = _heads_at(ex, 0, hh)
            ok = heads >= 0
            parts_p.append(heads[ok])
            parts_h.append(hh[ok])
            parts_d.append(
                ex.s.start - ex.rng.integers(60, 3000, int(ok.sum())).astype("timedelta64[D]")
            )
            parts_v.append(np.zeros(int(ok.sum())))
            parts_x.append(np.zeros(int(ok.sum())))
        if events:
            rows = np.flatnonzero(ex.month_index_of(events["date"]) == m)
            parts_p.append(events["person"][rows])
            parts_h.append(events["household"][rows])
            parts_d.append(events["date"][rows])
            value_key = "price" if "price" in events else "capital"
            parts_v.append(events[value_key][rows])
            parts_x.append(events["area"][rows] if "area" in events else np.zeros(rows.size))
        if not parts_p or sum(p.size for p in parts_p) == 0:
            continue
        p_rows = np.concatenate(parts_p).astype(np.int64)
        h_rows = np.concatenate(parts_h).astype(np.int64)
        cols = build(
            ex,
            m,
            p_rows,
            h_rows,
            np.concatenate(parts_d),
            np.concatenate(parts_v),  # type: ignore[operator]
            np.concatenate(parts_x),
        )
        yield Batch(_period(ex, m), cols, p_rows, h_rows)


def _vehicle_cols(
    ex: Extractor,
    m: int,
    p: np.ndarray,
    h: np.ndarray,
    d: np.ndarray,
    v: np.ndarray,
    _x: np.ndarray,
) -> dict[str, np.ndarray]:
    rng = ex.rng
    ident = ex.identity(p, h)
    price = np.where(v > 0, v, np.round(ex.s.households["car_value"][h], -2))
    plate = np.char.add(
        np.char.add("贵", _PLATES[rng.integers(0, 10, p.size)]),
        np.char.zfill(rng.integers(0, 99_999, p.size).astype(str), 5),
    )
    kind = np.where(
        price > 30_000,
        "small_passenger",
        np.where(rng.uniform(0, 1, p.size) < 0.5, "agricultural", "motorcycle"),
    )
    return {
        "plate_number": plate,
        "owner_id_number": ident["id_number"],
        "owner_name": ident["name"],
        "vehicle_type": kind,
        "registration_date": d,
        "purchase_price": price,
        "vehicle_status": np.full(p.size, "normal"),
        "owner_address": _owner_address(ex, h, VEHICLE_ADDRESS_BLANK),
    }


def vehicles(ex: Extractor) -> Iterator[Batch]:
    """Vehicles on the register at the start, then new registrations by month."""
    h = ex.s.households
    vehicle_log = ex.events("vehicle")
    bought = np.zeros(ex.s.n_households, dtype=bool)
    if vehicle_log:
        bought[vehicle_log["household"]] = True
    initial = np.flatnonzero(h["car"][: ex.s.n_households] & ~bought)
    yield from _asset_batches(ex, "vehicle", initial, _vehicle_cols)


def _house_cols(
    ex: Extractor, m: int, p: np.ndarray, h: np.ndarray, d: np.ndarray, v: np.ndarray, x: np.ndarray
) -> dict[str, np.ndarray]:
    rng = ex.rng
    ident = ex.identity(p, h)
    area = np.where(x > 0, x, np.round(rng.uniform(60, 130, p.size), 1))
    return {
        "certificate_number": np.char.add(
            f"黔({ex.month(m).year})县不动产权第",
            np.char.zfill(rng.integers(0, 9_999_999, p.size).astype(str), 7),
        ),
        "owner_id_number": ident["id_number"],
        "owner_name": ident["name"],
        "property_type": np.full(p.size, "residential"),
        "location": np.char.add(ex.s.geography.county_name, "城区新华路小区"),
        "area_sqm": area,
        "registration_date": d,
        "transaction_price": np.where(v > 0, v, np.round(area * 3_500, -3)),
        "owner_address": _owner_address(ex, h, REAL_ESTATE_ADDRESS_BLANK),
    }


def real_estate(ex: Extractor) -> Iterator[Batch]:
    """Town flats on the register at the start (better-off households), then purchases."""
    h = ex.s.households
    n_h = ex.s.n_households
    rich = (h["deposits"][:n_h] > 60_000) & (ex.rng.uniform(0, 1, n_h) < 0.35)
    yield from _asset_batches(ex, "house", np.flatnonzero(rich), _house_cols)


def _business_cols(
    ex: Extractor,
    m: int,
    p: np.ndarray,
    h: np.ndarray,
    d: np.ndarray,
    v: np.ndarray,
    _x: np.ndarray,
) -> dict[str, np.ndarray]:
    rng = ex.rng
    ident = ex.identity(p, h)
    capital = np.where(v > 0, v, ex.s.households["business_capital"][h])
    kind = np.where(
        capital > 200_000,
        "company",
        np.where(rng.uniform(0, 1, p.size) < 0.2, "cooperative", "individual"),
    )
    code = np.char.add(
        "92522799MA", np.char.zfill(rng.integers(0, 99_999_999, p.size).astype(str), 8)
    )
    return {
        "credit_code": code,
        "business_name": np.char.add(
            np.char.add(ex.s.geography.county_name, ident["name"]),
            np.where(kind == "cooperative", "种养殖专业合作社", "便民商店"),
        ),
        "representative_id_number": ident["id_number"],
        "representative_name": ident["name"],
        "business_type": kind,
        "registered_capital": capital,
        "registration_date": d,
        "business_status": np.full(p.size, "active"),
        "region_code": ident["region_code"],
    }


def business_registration(ex: Extractor) -> Iterator[Batch]:
    """Businesses on the register at the start, then new registrations by month."""
    h = ex.s.households
    log = ex.events("business")
    opened = np.zeros(ex.s.n_households, dtype=bool)
    if log:
        opened[log["household"]] = True
    initial = np.flatnonzero(h["business"][: ex.s.n_households] & ~opened)
    yield from _asset_batches(ex, "business", initial, _business_cols)
