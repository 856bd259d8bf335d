"""The workspace: one folder holding a county's warehouse, case database, feeds and config.

`dixian.toml` at the workspace root is read into `WorkspaceConfig`; every key is checked
and an error names the key and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dixian.errors import ConfigError, WorkspaceError

CONFIG_FILE_NAME = "dixian.toml"
DEFAULT_WORKSPACE = Path("workspace")
WORKSPACE_ENV_VAR = "DIXIAN_WORKSPACE"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkspaceSection(_Section):
    name: str = "county"


class RegionSection(_Section):
    province: str = Field(default="52", description="2-digit province code")
    county: str = Field(default="522799", description="6-digit county code")
    county_name: str = "示范县"

    @field_validator("province")
    @classmethod
    def _province_two_digits(cls, value: str) -> str:
        if not re.fullmatch(r"[1-9]\d", value):
            raise ValueError("expected a 2-digit province code such as '52'")
        return value

    @field_validator("county")
    @classmethod
    def _county_six_digits(cls, value: str) -> str:
        if not re.fullmatch(r"[1-9]\d{5}", value):
            raise ValueError("expected a 6-digit county code such as '522799'")
        return value


class EngineSection(_Section):
    kind: Literal["duckdb", "spark"] = "duckdb"
    duckdb_path: str = "warehouse.duckdb"
    threads: int = Field(default=2, ge=1)
    memory_limit: str = "8GB"
    spark_master: str = "local[2]"
    spark_driver_memory: str = "4g"


class CasesSection(_Section):
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means cases.sqlite in the workspace"
    )
    audit_retention_days: int = Field(default=1095, ge=184)
    decision_deadline_days: int = Field(default=15, ge=1, le=90)
    public_notice_min_days: int = Field(default=5, ge=5, le=30)


class PathsSection(_Section):
    feeds: str = "feeds"
    truth: str = "truth"
    artifacts: str = "artifacts"
    policies: str = "policies"
    reports: str = "reports"


class WorkspaceConfig(_Section):
    """Everything in dixian.toml. Unknown keys are errors, so typos do not pass silently."""

    workspace: WorkspaceSection = WorkspaceSection()
    region: RegionSection = RegionSection()
    engine: EngineSection = EngineSection()
    cases: CasesSection = CasesSection()
    paths: PathsSection = PathsSection()

    def check_consistency(self) -> None:
        if not self.region.county.startswith(self.region.province):
            raise ConfigError(
                f"{CONFIG_FILE_NAME}: region.county '{self.region.county}' does not lie in "
                f"region.province '{self.region.province}'"
            )


def _format_validation_error(path: Path, error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        else:
            problems.append(f"key '{key}': {item['msg']}")
    return f"{path}: " + "; ".join(problems)


def load_config(path: Path) -> WorkspaceConfig:
    """Read and validate a dixian.toml.

    Args:
        path: the config file.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: missing file, TOML syntax error, or an invalid key (all named at once).
    """
    if not path.is_file():
        raise ConfigError(f"{path}: not found (create a workspace with 'dixian init')")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = WorkspaceConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc)) from exc
    config.check_consistency()
    return config


class Workspace:
    """A workspace folder and its validated configuration."""

    def __init__(self, root: Path, config: WorkspaceConfig) -> None:
        self.root = root
        self.config = config

    @classmethod
    def open(cls, root: Path | None = None) -> Workspace:
        """Open an existing workspace (default: $DIXIAN_WORKSPACE or ./workspace)."""
        resolved = resolve_workspace_path(root)
        if not resolved.is_dir():
            raise WorkspaceError(
                f"workspace '{resolved}' does not exist (create it with "
                f"'dixian init --workspace {resolved}')"
            )
        return cls(resolved, load_config(resolved / CONFIG_FILE_NAME))

    def _path(self, relative: str) -> Path:
        return self.root / relative

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE_NAME

    @property
    def feeds_dir(self) -> Path:
        return self._path(self.config.paths.feeds)

    @property
    def truth_dir(self) -> Path:
        return self._path(self.config.paths.truth)

    @property
    def artifacts_dir(self) -> Path:
        return self._path(self.config.paths.artifacts)

    @property
    def policies_dir(self) -> Path:
        return self._path(self.config.paths.policies)

    @property
    def reports_dir(self) -> Path:
        return self._path(self.config.paths.reports)

    @property
    def warehouse_path(self) -> Path:
        return self._path(self.config.engine.duckdb_path)

    @property
    def cases_database_url(self) -> str:
        if self.config.cases.database_url:
            return self.config.cases.database_url
        return f"sqlite:///{self.root / 'cases.sqlite'}"


def resolve_workspace_path(root: Path | None) -> Path:
    """The workspace path given, else $DIXIAN_WORKSPACE, else ./workspace."""
    if root is not None:
        return root
    from_env = os.environ.get(WORKSPACE_ENV_VAR)
    return Path(from_env) if from_env else DEFAULT_WORKSPACE


_CONFIG_TEMPLATE = """\
# dixian workspace configuration.
# Every key is checked when a command starts; an unknown or invalid key is an error.

[workspace]
# A name for this workspace, shown in reports.
name = "{name}"

[region]
# 统计用区划代码 (region code) of the province (2 digits) and county (6 digits).
# A user's jurisdiction is a prefix of the 12-digit village code.
province = "{province}"
county = "{county}"
county_name = "{county_name}"

[engine]
# "duckdb" (one machine, the default) or "spark" (a cluster, or local[N]).
kind = "duckdb"
# DuckDB warehouse file, relative to the workspace.
duckdb_path = "warehouse.duckdb"
threads = 2
memory_limit = "8GB"
# Used when kind = "spark": a master URL such as spark://host:7077, or local[N]. Tables are
# written to spark-warehouse/ and their catalog kept in spark-metastore/ (both in the workspace).
spark_master = "local[2]"
spark_driver_memory = "4g"

[cases]
# SQLAlchemy URL of the case database. Empty: cases.sqlite in the workspace.
# PostgreSQL: "postgresql+psycopg://user:password@host:5432/dixian"
database_url = ""
# How long audit ledger entries are kept, in days (the law asks for at least six months).
audit_retention_days = 1095
# Days from a risk clue to the decision on it (county rules: 15; Hainan: 20 working days).
decision_deadline_days = 15
# Minimum days of the village public notice (at least 5).
public_notice_min_days = 5

[paths]
# Folders inside the workspace.
feeds = "feeds"
truth = "truth"
artifacts = "artifacts"
policies = "policies"
reports = "reports"
"""


def init_workspace(
    root: Path,
    *,
    province: str = "52",
    county: str | None = None,
    name: str = "county",
    county_name: str = "示范县",
) -> Workspace:
    """Create a workspace folder with a commented dixian.toml and its sub-folders.

    Args:
        root: the folder to create (may exist, but must not hold a dixian.toml already).
        province: 2-digit province code.
        county: 6-digit county code; default: the province's code followed by '2799'.
        name: a name for the workspace.
        county_name: the county's name.

    Returns:
        The opened workspace.

    Raises:
        WorkspaceError: a workspace already exists there.
        ConfigError: invalid codes.
    """
    county = county or f"{province}2799"
    config_path = root / CONFIG_FILE_NAME
    if config_path.exists():
        raise WorkspaceError(f"{config_path} already exists; refusing to overwrite a workspace")
    text = _CONFIG_TEMPLATE.format(
        name=name, province=province, county=county, county_name=county_name
    )
    try:
        config = WorkspaceConfig.model_validate(tomllib.loads(text))
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(config_path, exc)) from exc
    config.check_consistency()
    root.mkdir(parents=True, exist_ok=True)
    config_path.write_text(text, encoding="utf-8")
    workspace = Workspace(root, config)
    for folder in (
        workspace.feeds_dir,
        workspace.artifacts_dir,
        workspace.policies_dir,
        workspace.reports_dir,
    ):
        folder.mkdir(parents=True, exist_ok=True)
    return workspace
