"""Which dumps get the table fence: every MySQL source with a binlog (RDS), none without."""

from __future__ import annotations

from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight.backup import BackupOptions, SourceFacts, _fence_for
from drctl.pilotlight.dump_options import ServerFlavour
from drctl.pilotlight.position_fence import PositionFence

SOURCE = MySQLDsn(host="db.example", port=3306, user="admin", password="x")


def _facts(flavour: ServerFlavour, log_bin: bool = True) -> SourceFacts:
    return SourceFacts(flavour=flavour, log_bin=log_bin, estimate=0)


def test_mysql_dumps_are_fenced() -> None:
    fence = _fence_for(SOURCE, BackupOptions("app"), _facts(ServerFlavour.MYSQL))
    assert isinstance(fence, PositionFence) and fence.database == "app"


def test_mariadb_uses_its_own_snapshot_position_unless_asked() -> None:
    assert _fence_for(SOURCE, BackupOptions("app"), _facts(ServerFlavour.MARIADB)) is None
    forced = BackupOptions("app", position_method="fence")
    assert isinstance(_fence_for(SOURCE, forced, _facts(ServerFlavour.MARIADB)), PositionFence)


def test_no_binlog_no_fence() -> None:
    assert _fence_for(SOURCE, BackupOptions("app"), _facts(ServerFlavour.MYSQL, False)) is None
