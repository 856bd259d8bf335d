"""Opening the analytics engine of a workspace: DuckDB (default) or Spark, through Ibis.

Stages write engine-neutral Ibis expressions against the backend returned here. Where a
stage needs engine-specific SQL it keeps it in one place and tests it on both engines.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

import ibis

from dixian.errors import ConfigError

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from dixian.config import Workspace


def open_backend(workspace: Workspace, *, read_only: bool = False) -> BaseBackend:
    """Open the workspace's analytics backend.

    Args:
        workspace: the workspace whose [engine] section says which engine.
        read_only: open the DuckDB file read-only (for concurrent readers such as the web app).

    Returns:
        An Ibis backend (DuckDB or PySpark).
    """
    engine = workspace.config.engine
    if engine.kind == "duckdb":
        return open_duckdb(
            str(workspace.warehouse_path),
            threads=engine.threads,
            memory_limit=engine.memory_limit,
            read_only=read_only,
        )
    if engine.kind == "spark":
        return open_spark(
            master=engine.spark_master,
            driver_memory=engine.spark_driver_memory,
            warehouse_dir=str(workspace.root / "spark-warehouse"),
            metastore_dir=str(workspace.root / "spark-metastore"),
        )
    raise ConfigError(f"engine.kind: unknown engine '{engine.kind}'")


def open_duckdb(
    path: str = ":memory:", *, threads: int = 2, memory_limit: str = "8GB", read_only: bool = False
) -> BaseBackend:
    """Open a DuckDB backend on a file (or in memory)."""
    kwargs: dict[str, Any] = {"threads": threads, "memory_limit": memory_limit}
    if read_only:
        kwargs["read_only"] = True
    return ibis.duckdb.connect(path, **kwargs)


_SPARK_SESSION: Any = None


def spark_session(
    master: str = "local[2]",
    driver_memory: str = "4g",
    warehouse_dir: str | None = None,
    metastore_dir: str | None = None,
) -> Any:
    """A Spark session with settings that keep results equal to DuckDB's (UTC, ANSI off,
    NULLs of Arrow and pandas tables kept).

    The session is created once per process; Spark allows only one active session. Managed
    tables go to `warehouse_dir` (default: a new temporary folder), never the current folder.
    With `metastore_dir` the table catalog is kept there (an embedded Derby metastore), so the
    tables one command writes are there for the next; without it the catalog lives in memory.
    """
    global _SPARK_SESSION
    if _SPARK_SESSION is not None:
        return _SPARK_SESSION
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigError(
            "engine.kind = 'spark' needs pyspark: pip install 'dixian[spark]'"
        ) from exc
    builder = (
        SparkSession.builder.master(master)
        .appName("dixian")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
        # Arrow and pandas tables reach Spark through Arrow: without it NULLs in a string
        # column were written as the text 'NaN' and an integer column with a NULL lost all
        # its values (link's `persons` had 'NaN' ID numbers).
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config(
            "spark.sql.warehouse.dir", warehouse_dir or tempfile.mkdtemp(prefix="dixian-spark-")
        )
    )
    if metastore_dir is not None:
        builder = (
            builder.config("spark.sql.catalogImplementation", "hive")
            # The spark.hadoop. prefix hands the setting to the Hive client; a bare javax.jdo
            # key made spark-submit print "Ignoring non-Spark config property" every command.
            .config(
                "spark.hadoop.javax.jdo.option.ConnectionURL",
                f"jdbc:derby:;databaseName={metastore_dir};create=true",
            )
            .config("spark.driver.extraJavaOptions", f"-Dderby.stream.error.file={os.devnull}")
        )
    _SPARK_SESSION = builder.getOrCreate()
    _SPARK_SESSION.sparkContext.setLogLevel("ERROR")
    return _SPARK_SESSION


def open_spark(
    *,
    master: str = "local[2]",
    driver_memory: str = "4g",
    warehouse_dir: str | None = None,
    metastore_dir: str | None = None,
) -> BaseBackend:
    """Open an Ibis PySpark backend on a (shared, per-process) Spark session."""
    return ibis.pyspark.connect(spark_session(master, driver_memory, warehouse_dir, metastore_dir))
