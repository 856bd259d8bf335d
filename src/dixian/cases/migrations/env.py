"""Alembic environment of the case database; run programmatically by `dixian db upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import dixian.cases.case_models
import dixian.cases.ledger_models
from dixian.cases.models import Base

config = context.config
target_metadata = Base.metadata
_ = dixian.cases.case_models


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection or sqlalchemy.url given to the migrations")
    with create_engine(url).begin() as new_connection:
        _run(new_connection)
