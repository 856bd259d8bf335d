"""Web latency under load: household page and dashboard with 50 concurrent users on loopback.

Target (issue 9): on a 1,000,000-person county, household page p95 ≤ 300 ms and dashboard
p95 ≤ 1 s with 50 concurrent users. The case database holds what a county's does: the
households with a case (about 12% of households, Baoshan's monitored share rounded down),
their members, and a mix of states; everything is written through `dixian.cases.service`,
so each row has its audit entries like in production. The app runs under uvicorn in a
separate process (`dixian.web.asgi`); the load generator is an httpx async client with one
bearer-token session per virtual user. Each page view also writes its audit entry (reads of
personal data are audited), so the figures include the ledger's cost. The users read 0.5-1.5x
the think time between clicks and start within the first think time (docs/web.md, "The model
of 50 caseworkers"); think time 0 turns the run into a capacity test.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SIZES: dict[str, dict[str, float]] = {
    # persons in the county, concurrent users, page views per user and page, mean seconds a
    # user reads a page before the next click (see _load: the model of 50 caseworkers)
    "tiny": {"persons": 1_500, "users": 3, "views": 3, "think": 0.0},
    "small": {"persons": 100_000, "users": 50, "views": 10, "think": 3.0},
    "full": {"persons": 1_000_000, "users": 50, "views": 20, "think": 3.0},
}
HOUSEHOLD_SIZE = 3.1
CASE_SHARE = 0.12
VILLAGES_PER_TOWNSHIP = 15
PERSONS_PER_VILLAGE = 3_300
PASSWORD = "Bench!Pass-2026"
COUNTY = "522799"


def _villages(persons: int) -> list[str]:
    count = max(2, persons // PERSONS_PER_VILLAGE)
    return [
        f"{COUNTY}{101 + i // VILLAGES_PER_TOWNSHIP:03d}{201 + i % VILLAGES_PER_TOWNSHIP:03d}"
        for i in range(count)
    ]


def _seed(workspace_root: Path, persons: int, database_url: str = "") -> tuple[list[str], int]:
    from dixian.cases.actor import Actor
    from dixian.cases.db import CasesDatabase, upgrade_database
    from dixian.cases.enums import Channel, Role
    from dixian.cases.service import (
        DiscoveryInput,
        HouseholdInput,
        PersonInput,
        record_discoveries,
        transition_case,
        upsert_households,
    )
    from dixian.config import CONFIG_FILE_NAME, Workspace, init_workspace
    from dixian.web.accounts import issue_account
    from dixian.web.settings import WebSettings

    workspace = init_workspace(workspace_root, province="52", county=COUNTY, name="bench")
    if database_url:
        config = workspace_root / CONFIG_FILE_NAME
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace('database_url = ""', f'database_url = "{database_url}"', 1),
            encoding="utf-8",
        )
        workspace = Workspace.open(workspace_root)
    db = CasesDatabase.from_workspace(workspace, create_key=True)
    upgrade_database(db.engine)
    rng = random.Random(20261122)
    villages = _villages(persons)
    households = int(persons / HOUSEHOLD_SIZE * CASE_SHARE)
    system = Actor.system(name="bench")
    demo = WebSettings(env="demo")
    with db.session() as session:
        for name, role, area in (
            ("analyst", Role.COUNTY_ANALYST, COUNTY),
            ("village", Role.VILLAGE_CASEWORKER, villages[0]),
        ):
            issue_account(session, actor=system, username=name, display_name=name, role=role,
                          jurisdiction=area, settings=demo, password=PASSWORD)  # fmt: skip
    ids: list[str] = []
    today = date(2026, 11, 1)
    batch = 2_000
    for start in range(0, households, batch):
        homes: list[HouseholdInput] = []
        items: list[DiscoveryInput] = []
        for n in range(start, min(start + batch, households)):
            hid = f"H{n:07d}"
            village = rng.choice(villages)
            size = max(1, min(8, round(rng.gauss(HOUSEHOLD_SIZE, 1.2))))
            homes.append(HouseholdInput(
                household_id=hid, region_code=village, head_name=f"户主{n}", member_count=size,
                has_labour=rng.random() > 0.1,
                persons=[PersonInput(person_id=f"{hid}-{k}", name=f"成员{n}-{k}",
                                     id_number=f"{village[:6]}19{rng.randint(50, 99)}0101"
                                               f"{rng.randint(100, 999)}{rng.randint(0, 9)}",
                                     relation_to_head="户主" if k == 0 else "家属")
                         for k in range(size)],
            ))  # fmt: skip
            ids.append(hid)
            items.append(
                DiscoveryInput(
                    household_id=hid, region_code=village,
                    period=f"2026-{rng.randint(1, 10):02d}",
                    channel=rng.choice(list(Channel)),
                    discovered_on=today - timedelta(days=rng.randint(0, 300)),
                    evidence={"signal": "bench"}, risk_score=round(rng.random(), 3),
                )
            )  # fmt: skip
        with db.session() as session:
            # The bulk path of the service: a few queries per 2,000 households, and still one
            # audit entry per household, case and clue.
            upsert_households(session, actor=system, households=homes)
            result = record_discoveries(session, actor=system, discoveries=items)
            # A share of the cases moves on, so the dashboard has states, causes and trends.
            tenth = len(result.case_ids) // 10
            for case_id in result.case_ids[:tenth]:
                transition_case(
                    session, actor=system_as(Role.VILLAGE_CASEWORKER), case_id=case_id,
                    action="reject", expected_version=1,
                    payload={"decided_on": today.isoformat(), "reason": "bench"}, today=today,
                )  # fmt: skip
            for case_id in result.case_ids[tenth : 2 * tenth]:
                _confirm(
                    session,
                    case_id,
                    rng.choice(CAUSES),
                    today - timedelta(days=rng.randint(20, 250)),
                )
    db.dispose()
    return ids, households


CAUSES = ("illness", "disability", "schooling", "disaster", "lack_of_labour", "lack_of_skills")


def _confirm(session: Any, case_id: int, cause: str, on: date) -> None:
    """Visit, village review, township review and county confirmation of one case."""
    from dixian.cases.enums import Role
    from dixian.cases.service import transition_case

    day = on.isoformat()
    steps: list[tuple[Any, str, dict[str, Any]]] = [
        (Role.VILLAGE_CASEWORKER, "record_visit", {
            "visited_on": day, "per_capita_income": 4100, "labour_count": 1,
            "food_clothing_secure": True, "education_secure": True, "medical_secure": False,
            "housing_secure": True, "water_secure": True, "authorisation_signed_on": day}),
        (Role.VILLAGE_CASEWORKER, "village_review", {
            "decided_on": (on + timedelta(days=7)).isoformat(), "notice_start": day,
            "notice_end": (on + timedelta(days=6)).isoformat()}),
        (Role.TOWNSHIP_REVIEWER, "township_review", {
            "decided_on": (on + timedelta(days=8)).isoformat()}),
        (Role.COUNTY_ANALYST, "county_confirm", {
            "decided_on": (on + timedelta(days=9)).isoformat(), "object_type": "marginal_at_risk",
            "causes": [cause], "primary_cause": cause}),
    ]  # fmt: skip
    for version, (role, action, payload) in enumerate(steps, start=1):
        transition_case(
            session,
            actor=system_as(role),
            case_id=case_id,
            action=action,
            expected_version=version,
            payload=payload,
            today=on + timedelta(days=9),
        )


def system_as(role: Any) -> Any:
    """The local principal acting with a business role (seeding only)."""
    from dixian.cases.actor import Actor

    return Actor(user_id=None, username="bench", role=str(role), jurisdiction=COUNTY)


def _household_ids(root: Path) -> list[str]:
    from sqlalchemy import select

    from dixian.cases.db import CasesDatabase
    from dixian.cases.models import Household
    from dixian.config import Workspace

    db = CasesDatabase.from_workspace(Workspace.open(root))
    try:
        with db.session() as session:
            return list(session.scalars(select(Household.household_id).order_by(Household.id)))
    finally:
        db.dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (Linux /proc).

    With `--workers N` uvicorn's workers are children of the supervisor, still running when
    the load ends; their CPU is only in their own /proc entries.
    """
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks = sum(int(v) for v in fields[11:15])
        stats[int(entry.name)] = (int(fields[1]), ticks / os.sysconf("SC_CLK_TCK"))
    total, frontier = 0.0, [pid]
    while frontier:
        parent = frontier.pop()
        total += stats.get(parent, (0, 0.0))[1]
        children = [child for child, (ppid, _) in stats.items() if ppid == parent]
        frontier.extend(children)
    return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(
    workspace_root: Path, port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "DIXIAN_WORKSPACE": str(workspace_root),
            "DIXIAN_WEB_ENV": "demo",
            "DIXIAN_WEB_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE": "100000",
        }
    )
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "dixian.web.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        # Longer than any wait of the load: an idle keep-alive connection closed by the server
        # while the client reuses it shows up as a transport error, not as latency.
        "--timeout-keep-alive",
        "120",
    ]
    # A fixed argument list naming our own module; no shell.
    with log.open("ab") as sink:
        return subprocess.Popen(command, env=env, stdout=sink, stderr=sink)


async def _wait_ready(url: str, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("the web server did not start")


async def _load(
    url: str, household_ids: list[str], users: int, views: int, think: float, server_pid: int
) -> dict[str, Any]:
    import httpx

    rng = random.Random(7)
    latencies: dict[str, list[float]] = {"household": [], "dashboard": []}
    errors = 0
    limits = httpx.Limits(max_connections=users + 5, max_keepalive_connections=users + 5)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        tokens = []
        for _ in range(users):
            response = await client.post(
                "/api/v1/auth/token", json={"username": "analyst", "password": PASSWORD}
            )
            response.raise_for_status()
            tokens.append(response.json()["token"])

        # Warm-up, not timed: first requests load the data standard and compile templates.
        # Every user at once: the client opens its connections now, each stays with the
        # worker that accepted it, and so every worker gets warm-up requests.
        async def warm(token: str) -> None:
            for path in ("/dashboard", f"/households/{household_ids[0]}") * 2:
                await client.get(path, headers={"Authorization": f"Bearer {token}"})

        await asyncio.gather(*(warm(token) for token in tokens))

        async def user(token: str) -> None:
            nonlocal errors
            headers = {"Authorization": f"Bearer {token}"}
            if think:
                # People do not all click in the same millisecond: each user starts at a
                # random moment of one reading time, as if already at work (ramp-up). Without
                # it the first 50 clicks arrive together, and that one burst alone is the
                # slowest 5% of a 1,000-view run.
                await asyncio.sleep(think * rng.random())
            for _ in range(views):
                for kind in ("household", "dashboard"):
                    path = (
                        f"/households/{rng.choice(household_ids)}"
                        if kind == "household"
                        else "/dashboard"
                    )
                    started = time.perf_counter()
                    try:
                        response = await client.get(path, headers=headers)
                    except httpx.TransportError:
                        errors += 1
                        continue
                    latencies[kind].append(time.perf_counter() - started)
                    if response.status_code != 200:
                        errors += 1
                    if think:
                        # A person reads the page before the next click (0.5x to 1.5x think).
                        await asyncio.sleep(think * (0.5 + rng.random()))

        cpu_before = _cpu_seconds(server_pid)
        started = time.perf_counter()
        await asyncio.gather(*(user(token) for token in tokens))
        elapsed = time.perf_counter() - started
        cpu_used = _cpu_seconds(server_pid) - cpu_before
    figures: dict[str, Any] = {"errors": errors, "load_seconds": round(elapsed, 2)}
    # Server CPU per page view (sign-ins excluded): the figure that does not depend on how many
    # other jobs share the machine's two cores.
    figures["server_cpu_ms_per_request"] = round(
        cpu_used * 1000 / max(sum(len(v) for v in latencies.values()), 1), 1
    )
    for kind, values in latencies.items():
        ordered = sorted(values)
        figures[f"{kind}_requests"] = len(ordered)
        figures[f"{kind}_p50_ms"] = round(statistics.median(ordered) * 1000, 1)
        for share in (95, 99):
            at = ordered[int(share / 100 * (len(ordered) - 1))]
            figures[f"{kind}_p{share}_ms"] = round(at * 1000, 1)
        figures[f"{kind}_max_ms"] = round(ordered[-1] * 1000, 1)
    figures["requests_per_second"] = round(sum(len(v) for v in latencies.values()) / elapsed, 1)
    return figures


def _fresh_pg_database(size: str) -> str:
    """A new, empty PostgreSQL database for the bench on the test server ($DIXIAN_TEST_PG_URL)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(os.environ.get("DIXIAN_TEST_PG_URL", DEFAULT_PG_URL))
    name = f"dixian_bench_web_{size}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


DEFAULT_PG_URL = "postgresql+psycopg://dixian:dixian@127.0.0.1:5432/dixian_test"


def run(size: str, workdir: Path) -> dict[str, Any]:
    """Seed a county's case database, serve it, and measure page latency under load.

    Environment: DIXIAN_BENCH_WEB_PG=1 puts the case database on the PostgreSQL server of
    $DIXIAN_TEST_PG_URL (a database of its own, recreated when seeding);
    DIXIAN_BENCH_WEB_WORKSPACE keeps or reuses a seeded workspace; DIXIAN_BENCH_WEB_WORKERS
    sets uvicorn workers; DIXIAN_BENCH_WEB_THINK_SECONDS adds reading time between clicks.
    """
    spec = SIZES[size]
    reuse = os.environ.get("DIXIAN_BENCH_WEB_WORKSPACE")
    started = time.perf_counter()
    if reuse and (Path(reuse) / "dixian.toml").is_file():
        # Re-measure a workspace seeded by an earlier run.
        root = Path(reuse)
        household_ids = _household_ids(root)
        households = len(household_ids)
    else:
        # With DIXIAN_BENCH_WEB_WORKSPACE naming a new folder, the seeded workspace is kept.
        root = Path(reuse) if reuse else workdir / "ws"
        url = _fresh_pg_database(size) if os.environ.get("DIXIAN_BENCH_WEB_PG") == "1" else ""
        household_ids, households = _seed(root, int(spec["persons"]), url)
    seed_seconds = time.perf_counter() - started
    backend = "postgresql" if _uses_postgres(root) else "sqlite"
    port = _free_port()
    workers = int(os.environ.get("DIXIAN_BENCH_WEB_WORKERS", "1"))
    server = _start_server(root, port, workers, workdir / "server.log")
    try:
        url = f"http://127.0.0.1:{port}"
        asyncio.run(_wait_ready(url))
        think = float(os.environ.get("DIXIAN_BENCH_WEB_THINK_SECONDS", spec["think"]))
        load_before = os.getloadavg()[0]
        figures = asyncio.run(
            _load(url, household_ids, int(spec["users"]), int(spec["views"]), think, server.pid)
        )
        figures["think_seconds"] = think
        figures["load_average_1m_before_after"] = [round(load_before, 2),
                                                   round(os.getloadavg()[0], 2)]  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "persons_in_county": int(spec["persons"]),
        "households_with_case": households,
        "concurrent_users": int(spec["users"]),
        "case_database": backend,
        "server_workers": workers,
        "seed_seconds": round(seed_seconds, 1),
        **figures,
    }


def _uses_postgres(root: Path) -> bool:
    from dixian.config import Workspace

    return Workspace.open(root).cases_database_url.startswith("postgresql")
