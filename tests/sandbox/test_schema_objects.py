"""The whole schema survives backup → restore: views, routines, triggers, events, definers."""

from __future__ import annotations

from typing import Any

import pytest
from azure.storage.blob import ContainerClient

from drctl.pilotlight import swap
from drctl.pilotlight.backup import BackupOptions, run_backup
from drctl.pilotlight.restore import RestoreOptions, run_restore
from drctl.pilotlight.swap import SwapFailed
from drctl.sandbox.mariadb import MariaDBServer

from .conftest import seed_database

OBJECTS = {
    "view big_orders",
    "view big_order_count",
    "procedure add_owner",
    "function owner_count",
    "trigger orders_default_note",
    "event purge_nothing",
}


def add_objects(server: MariaDBServer, database: str) -> None:
    """Every kind of schema object, created by root: a DEFINER the app user is not."""
    server.execute(
        "CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 500",
        "CREATE VIEW big_order_count AS SELECT COUNT(*) AS n FROM big_orders",
        "CREATE PROCEDURE add_owner(IN owner_id INT, IN owner_name VARCHAR(50)) "
        "INSERT INTO owners VALUES (owner_id, owner_name)",
        "CREATE FUNCTION owner_count() RETURNS INT READS SQL DATA "
        "RETURN (SELECT COUNT(*) FROM owners)",
        "CREATE TRIGGER orders_default_note BEFORE INSERT ON orders FOR EACH ROW "
        "SET NEW.note = COALESCE(NEW.note, 'no note')",
        "CREATE EVENT purge_nothing ON SCHEDULE EVERY 1 DAY DISABLE "
        "DO DELETE FROM orders WHERE id < 0",
        database=database,
    )


def leftovers(server: MariaDBServer, database: str) -> list[tuple[str]]:
    return server.execute(f"SHOW DATABASES LIKE '{database}\\_\\_drctl%'")


@pytest.mark.mariadb
@pytest.mark.azurite
def test_every_object_is_restored_by_a_user_without_super(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
) -> None:
    seed_database(source_db, database_name, rows=3000)
    add_objects(source_db, database_name)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))

    # Twice: the second restore replaces a database that already has every object
    # (a table with a trigger cannot simply be renamed away: error 1435).
    for _ in range(2):
        result = run_restore(
            container,
            target_db.master_dsn(),  # the Azure admin: no SUPER, no SET USER
            RestoreOptions(database_name, source=source_db.master_dsn()),
        )
        assert set(result.objects) == OBJECTS
        assert result.source_check == {"reachable": True, "matches": True, "differences": []}
        assert result.definers_rewritten >= len(OBJECTS)
        assert leftovers(target_db, database_name) == []

    db = database_name
    assert target_db.execute(f"SELECT n FROM `{db}`.big_order_count") == [(1500,)]
    target_db.execute(f"CALL `{db}`.add_owner(7, 'Jean Coleman')")
    assert target_db.execute(f"SELECT `{db}`.owner_count()") == [(3,)]
    target_db.execute(f"INSERT INTO `{db}`.orders (amount) VALUES (1)")
    assert target_db.execute(f"SELECT note FROM `{db}`.orders ORDER BY id DESC LIMIT 1") == [
        ("no note",)
    ]
    definers = target_db.execute(
        f"SELECT DISTINCT definer FROM information_schema.routines WHERE routine_schema = '{db}' "
        f"UNION SELECT definer FROM information_schema.triggers WHERE trigger_schema = '{db}' "
        f"UNION SELECT definer FROM information_schema.views WHERE table_schema = '{db}' "
        f"UNION SELECT definer FROM information_schema.events WHERE event_schema = '{db}'"
    )
    assert definers == [(f"{target_db.account.user}@%",)]


@pytest.mark.mariadb
@pytest.mark.azurite
def test_restore_into_another_database_name(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
) -> None:
    seed_database(source_db, database_name, rows=100)
    add_objects(source_db, database_name)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    other = f"{database_name}_petclinic"
    result = run_restore(container, target_db.master_dsn(), RestoreOptions(other))
    assert set(result.objects) == OBJECTS
    # The views read the restored database's tables, not the staging ones.
    assert target_db.execute(f"SELECT COUNT(*) FROM `{other}`.big_orders") == [(0,)]
    assert target_db.execute(f"SHOW DATABASES LIKE '{database_name}'") == []


@pytest.mark.mariadb
@pytest.mark.azurite
def test_verification_notices_a_missing_object(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
) -> None:
    seed_database(source_db, database_name, rows=10)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    source_db.execute(f"CREATE VIEW `{database_name}`.late AS SELECT 1 AS one")
    result = run_restore(
        container,
        target_db.master_dsn(),
        RestoreOptions(database_name, source=source_db.master_dsn()),
    )
    assert result.source_check is not None
    assert result.source_check["matches"] is False
    assert result.source_check["differences"] == ["view late: missing from the restore"]


@pytest.mark.mariadb
@pytest.mark.azurite
def test_failed_swap_puts_the_target_back_and_leaves_no_staging(
    source_db: MariaDBServer,
    target_db: MariaDBServer,
    container: ContainerClient,
    database_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_database(source_db, database_name, rows=10)
    add_objects(source_db, database_name)
    run_backup(source_db.master_dsn(), container, BackupOptions(database_name))
    # The target already holds an older copy, with its own trigger and view.
    target_db.execute(
        f"CREATE DATABASE `{database_name}`",
        f"CREATE TABLE `{database_name}`.keep (id INT PRIMARY KEY)",
        f"INSERT INTO `{database_name}`.keep VALUES (42)",
        f"CREATE TRIGGER `{database_name}`.keep_bi BEFORE INSERT ON `{database_name}`.keep "
        "FOR EACH ROW SET NEW.id = NEW.id + 0",
        f"CREATE VIEW `{database_name}`.keep_view AS SELECT id FROM `{database_name}`.keep",
    )
    original = swap.create_objects
    calls = 0

    def fail_once(conn: Any, database: str, objects: list[Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:  # creating the restored objects: fail half-way
            original(conn, database, objects[:2])
            raise RuntimeError("simulated failure while creating objects")
        original(conn, database, objects)  # putting the old ones back

    monkeypatch.setattr(swap, "create_objects", fail_once)
    with pytest.raises(SwapFailed, match="put back as it was"):
        run_restore(container, target_db.master_dsn(), RestoreOptions(database_name))

    db = database_name
    assert target_db.execute(f"SHOW FULL TABLES FROM `{db}`") == [
        ("keep", "BASE TABLE"),
        ("keep_view", "VIEW"),
    ]
    assert target_db.execute(f"SELECT id FROM `{db}`.keep_view") == [(42,)]
    assert target_db.execute(f"SHOW TRIGGERS FROM `{db}`")[0][0] == "keep_bi"
    assert target_db.execute(
        f"SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = '{db}'"
    ) == [(0,)]
    assert leftovers(target_db, db) == []
