"""The county's geography: townships and villages under the workspace's county code.

Region codes follow 统计用区划代码 (12 digits): county (6) + township (3, 1xx for 镇, 2xx for
乡) + village (3, 2xx for 村委会). Each village has a centroid, a simple square polygon (for
maps), a distance to the county seat, a terrain class and the traits that drive outcomes:
road access, water supply and disaster exposure (flood, drought, landslide, hail).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from dixian.simulate.params import GeographyParams

TERRAINS = np.array(["mountain", "hill", "plain"])
_PLACE_FIRST = list("大小新石马杨龙沙高长黄白青红金水上下中东西南北桃李柳松竹花云凤岩")
_PLACE_SECOND = list("坪寨沟坝湾岭田河山冲塘坡桥湖林庄营堡溪口")
_TOWN_FIRST = list("兴隆安平永和太宁清丰长乐龙泉三合新华德胜镇远云雾")


@dataclass
class Geography:
    """Township and village tables as arrays (one element per village)."""

    county_code: str
    county_name: str
    township_code: np.ndarray
    township_name: np.ndarray
    village_code: np.ndarray
    village_name: np.ndarray
    village_township: np.ndarray  # index into township arrays
    lat: np.ndarray
    lon: np.ndarray
    distance_km: np.ndarray
    terrain: np.ndarray  # 0 mountain, 1 hill, 2 plain
    road_access: np.ndarray
    water_supply: np.ndarray
    exposure: np.ndarray  # (villages, 4): flood, drought, landslide, hail probabilities

    @property
    def n_villages(self) -> int:
        return int(self.village_code.size)

    def villages_table(self) -> pa.Table:
        """The villages with their traits (written to the truth folder)."""
        return pa.table(
            {
                "region_code": self.village_code,
                "name": self.village_name,
                "township_code": self.township_code[self.village_township],
                "lat": self.lat,
                "lon": self.lon,
                "distance_km": self.distance_km,
                "terrain": TERRAINS[self.terrain],
                "road_access": self.road_access,
                "water_supply": self.water_supply,
                "flood_exposure": self.exposure[:, 0],
                "drought_exposure": self.exposure[:, 1],
                "landslide_exposure": self.exposure[:, 2],
                "hail_exposure": self.exposure[:, 3],
            }
        )


def _unique_names(
    count: int, first: list[str], second: list[str], suffix: str, rng: np.random.Generator
) -> np.ndarray:
    combos = np.array([a + b for a in first for b in second if a != b])
    if count > combos.size:
        extra = np.array([a + b + c for a in first for b in first for c in second])
        combos = np.concatenate([combos, extra])
    chosen = combos[rng.permutation(combos.size)[:count]]
    return np.char.add(chosen, suffix)


def build_geography(
    *,
    county_code: str,
    county_name: str,
    persons: int,
    params: GeographyParams,
    rng: np.random.Generator,
) -> Geography:
    """Lay out townships and villages for a county of about `persons` residents."""
    n_villages = max(3, round(persons / params.persons_per_village))
    n_towns = max(1, int(np.ceil(n_villages / params.villages_per_township)))
    town_sizes = np.full(n_towns, n_villages // n_towns)
    town_sizes[: n_villages % n_towns] += 1
    village_township = np.repeat(np.arange(n_towns), town_sizes)
    # 镇 codes 101.., 乡 codes 201..; the first third of townships are towns (镇).
    is_town = np.arange(n_towns) < max(1, n_towns * 2 // 3)
    serial = np.where(is_town, 101 + np.arange(n_towns), 201 + np.arange(n_towns))
    township_code = np.char.add(county_code, serial.astype("U3"))
    within = np.arange(n_villages) - np.repeat(np.cumsum(town_sizes) - town_sizes, town_sizes)
    village_code = np.char.add(township_code[village_township], (201 + within).astype("U3"))
    town_names = _unique_names(n_towns, _TOWN_FIRST, _TOWN_FIRST, "", rng)
    township_name = np.char.add(town_names, np.where(is_town, "镇", "乡"))
    village_name = _unique_names(n_villages, _PLACE_FIRST, _PLACE_SECOND, "村", rng)

    # Townships sit on a ring around the seat; villages scatter around their township.
    angle = rng.uniform(0, 2 * np.pi, n_towns)
    radius = rng.uniform(0.15, 0.85, n_towns) * params.max_distance_km
    town_x, town_y = radius * np.cos(angle), radius * np.sin(angle)
    vx = town_x[village_township] + rng.normal(0, 4.0, n_villages)
    vy = town_y[village_township] + rng.normal(0, 4.0, n_villages)
    distance_km = np.round(np.hypot(vx, vy) + 1.0, 1)
    lat = params.centre_lat + vy / 111.0
    lon = params.centre_lon + vx / (111.0 * np.cos(np.radians(params.centre_lat)))

    shares = np.asarray(params.terrain_shares, dtype=float)
    # Remote villages are more often mountain villages.
    remoteness = distance_km / max(distance_km.max(), 1.0)
    u = np.clip(rng.uniform(0, 1, n_villages) - 0.25 * (remoteness - 0.5), 0, 0.999)
    terrain = np.searchsorted(np.cumsum(shares / shares.sum()), u, side="right")
    mountain = terrain == 0
    road_access = rng.uniform(0, 1, n_villages) < params.road_access_share + np.where(
        mountain, -0.1, 0.1
    )
    water_supply = rng.uniform(0, 1, n_villages) < params.water_supply_share + np.where(
        mountain, -0.08, 0.05
    )
    base = np.array(
        [
            params.flood_exposure,
            params.drought_exposure,
            params.landslide_exposure,
            params.hail_exposure,
        ]
    )
    tilt = np.stack(
        [
            np.where(terrain == 2, 1.3, 0.8),
            np.where(mountain, 1.2, 0.9),
            np.where(mountain, 1.6, np.where(terrain == 1, 0.7, 0.1)),
            np.ones(n_villages),
        ],
        axis=1,
    )
    exposure = np.clip(base * tilt * rng.uniform(0.5, 1.5, (n_villages, 4)), 0.0, 0.95)
    return Geography(
        county_code=county_code,
        county_name=county_name,
        township_code=township_code,
        township_name=township_name,
        village_code=village_code,
        village_name=village_name,
        village_township=village_township,
        lat=np.round(lat, 5),
        lon=np.round(lon, 5),
        distance_km=distance_km,
        terrain=terrain,
        road_access=road_access,
        water_supply=water_supply,
        exposure=np.round(exposure, 4),
    )


def write_reference(geography: Geography, reference_dir: Path) -> list[Path]:
    """Write the public reference data: regions.csv and villages.geojson."""
    reference_dir.mkdir(parents=True, exist_ok=True)
    g = geography
    lines = ["region_code,name,level,parent_code"]
    lines.append(f"{g.county_code}000000,{g.county_name},county,")
    county12 = f"{g.county_code}000000"
    for code, name in zip(g.township_code, g.township_name, strict=True):
        lines.append(f"{code}000,{name},township,{county12}")
    for code, name, town in zip(g.village_code, g.village_name, g.village_township, strict=True):
        lines.append(f"{code},{name},village,{g.township_code[town]}000")
    regions = reference_dir / "regions.csv"
    regions.write_text("\n".join(lines) + "\n", encoding="utf-8")

    half = 0.012
    features = []
    for i in range(g.n_villages):
        x, y = float(g.lon[i]), float(g.lat[i])
        ring = [
            [round(x - half, 5), round(y - half, 5)],
            [round(x + half, 5), round(y - half, 5)],
            [round(x + half, 5), round(y + half, 5)],
            [round(x - half, 5), round(y + half, 5)],
            [round(x - half, 5), round(y - half, 5)],
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "region_code": str(g.village_code[i]),
                    "name": str(g.village_name[i]),
                    "township_code": f"{g.township_code[g.village_township[i]]}000",
                    "terrain": str(TERRAINS[g.terrain[i]]),
                    "distance_km": float(g.distance_km[i]),
                    "centroid": [x, y],
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    geojson = reference_dir / "villages.geojson"
    geojson.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return [regions, geojson]
