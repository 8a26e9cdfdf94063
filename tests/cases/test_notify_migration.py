"""Migration 0004 (outbox, user_contacts) goes down and up again, and its tables match the code's."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig

from iplos.cases.outbox_store import contacts_table, outbox_table
from iplos.cases.store import make_engine, upgrade


def _run(engine: sa.Engine, action: str, target: str) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("iplos.cases").joinpath("migrations")))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(alembic_command, action)(cfg, target)


def test_outbox_migration_down_and_up(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    upgrade(engine)
    for table in (outbox_table, contacts_table):
        columns = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
        assert columns == {c.name for c in table.columns}
    _run(engine, "downgrade", "0004-1")
    names = set(sa.inspect(engine).get_table_names())
    assert "outbox" not in names and "user_contacts" not in names and "case_events" in names
    _run(engine, "upgrade", "head")
    assert {"outbox", "user_contacts"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
