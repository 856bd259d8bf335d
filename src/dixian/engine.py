"""Opening the analytics engine of a workspace: DuckDB (default) or Spark, through Ibis.

Stages write engine-neutral Ibis expressions against the backend returned here. Where a
stage needs engine-specific SQL it keeps it in one place and tests it on both engines.
"""

from __future__ import annotations

import functools
import os
import tempfile
from typing import TYPE_CHECKING, Any

import ibis

from dixian.errors import ConfigError

if TYPE_CHECKING:
    import ibis.expr.types as ir
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


# The suffix of a table written beside the one it will replace.
STAGED_SUFFIX = "__next"


def overwrite_table(backend: BaseBackend, name: str, expression: ir.Table) -> None:
    """Replace table `name` by `expression`, which may read `name` itself.

    DuckDB does that in one statement; Spark refuses to overwrite a table the query reads,
    so there the result is staged under `<name>` + `STAGED_SUFFIX` and copied back.
    """
    if backend.name == "duckdb":
        backend.create_table(name, expression, overwrite=True)
        return
    staged = f"{name}{STAGED_SUFFIX}"
    backend.create_table(staged, expression, overwrite=True)
    backend.create_table(name, backend.table(staged), overwrite=True)
    backend.drop_table(staged)


def swap_in_staged(backend: BaseBackend, names: list[str], *, suffix: str = STAGED_SUFFIX) -> None:
    """Replace each table `name` by its staged version `<name><suffix>`, renamed, not copied.

    A run that rewrites several tables builds them all under staged names first and swaps
    them in only when everything reconciled. On DuckDB the swaps are one transaction: a
    failure leaves every table as it was. Spark has no multi-table transaction; there each
    table is dropped and its staged version renamed in turn.

    Unlike `overwrite_table`, which copies a query's result (so the query may read the table
    it replaces), this needs the staged tables written beforehand, and moves no data.
    """
    if backend.name == "duckdb":
        connection: Any = backend.con
        connection.execute("BEGIN TRANSACTION")
        try:
            for name in names:
                connection.execute(f'DROP TABLE IF EXISTS "{name}"')
                connection.execute(f'ALTER TABLE "{name}{suffix}" RENAME TO "{name}"')
            connection.execute("COMMIT")
        except Exception:
            connection.execute("ROLLBACK")
            raise
        return
    existing = set(backend.list_tables())
    for name in names:
        if name in existing:
            backend.drop_table(name, force=True)
        backend.rename_table(f"{name}{suffix}", name)


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
        # pandas frames reach Spark through Arrow, NULLs kept (see _spark_backend_class).
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
    session = spark_session(master, driver_memory, warehouse_dir, metastore_dir)
    backend: BaseBackend = _spark_backend_class()().connect(session)
    return backend


@functools.cache
def _spark_backend_class() -> type[Any]:
    from ibis.backends.pyspark import Backend
    from ibis.backends.pyspark.datatypes import PySparkSchema

    if getattr(ibis.options, "pyspark", None) is None:
        # ibis registers a backend's options (the compiler reads them) only when the backend
        # is loaded as ibis.pyspark; a subclass is not.
        Backend.register_options()

    class ArrowSparkBackend(Backend):  # type: ignore[misc]
        """Ibis' PySpark backend with in-memory tables handed to Spark as Arrow.

        Ibis converts an in-memory table (Arrow or pandas) to pandas first; with pandas 3 a
        NULL string is NaN there, and Spark wrote it as the text 'NaN' (link's `persons` had
        ID numbers 'NaN'), and an integer column with a NULL lost every value. PySpark 4
        reads an Arrow table directly, NULLs and types intact.
        """

        def _register_in_memory_table(self, op: Any) -> None:
            arrow = op.data.to_pyarrow(op.schema)
            frame = self._session.createDataFrame(arrow, schema=PySparkSchema.from_ibis(op.schema))
            frame.createOrReplaceTempView(op.name)

    return ArrowSparkBackend
