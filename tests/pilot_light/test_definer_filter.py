"""DEFINER clauses dropped from a streamed dump; data lines never touched."""

from __future__ import annotations

import pytest

from drctl.pilotlight.schema_objects import DefinerFilter, strip_definer

# What mariadb-dump/mysqldump write for each kind of object.
DUMP = (
    b"/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n"
    b"/*!50003 CREATE*/ /*!50017 DEFINER=`admin`@`%`*/ /*!50003 TRIGGER t BEFORE INSERT ON o\n"
    b"CREATE DEFINER=`rds``admin`@`10.0.%` PROCEDURE `p`()\n"
    b"/*!50106 CREATE*/ /*!50117 DEFINER='ops'@'host.example'*/ /*!50106 EVENT `e` ON\n"
    b"CREATE DEFINER=CURRENT_USER FUNCTION f() RETURNS INT RETURN 1\n"
    b"CREATE DEFINER=`app_role` VIEW v AS SELECT 1\n"
    b"INSERT INTO `notes` VALUES (1,'DEFINER=`root`@`localhost` is data here');\n"
    b"-- Dump completed\n"
)


def _streamed(data: bytes, piece: int) -> tuple[bytes, int]:
    definers = DefinerFilter()
    out = b"".join(definers.feed(data[i : i + piece]) for i in range(0, len(data), piece))
    return out + definers.flush(), definers.rewritten


@pytest.mark.parametrize("piece", [1, 7, 64, 1 << 20])
def test_every_definer_is_dropped_whatever_the_chunking(piece: int) -> None:
    out, rewritten = _streamed(DUMP, piece)
    ddl, data = out.split(b"INSERT INTO", 1)
    assert b"DEFINER=" not in ddl
    assert rewritten == 6
    assert b"CREATE PROCEDURE `p`()" in ddl
    assert b"SQL SECURITY DEFINER" in ddl  # the security mode stays; only the owner goes
    assert data == DUMP.split(b"INSERT INTO", 1)[1]  # byte for byte


def test_text_without_definers_is_unchanged() -> None:
    plain = b"CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n"
    assert _streamed(plain, 5) == (plain, 0)


def test_strip_definer_on_show_create_output() -> None:
    shown = b"CREATE DEFINER=`drstack`@`%` TRIGGER `t` BEFORE INSERT ON `o` FOR EACH ROW SET @x=1"
    assert strip_definer(shown) == b"CREATE TRIGGER `t` BEFORE INSERT ON `o` FOR EACH ROW SET @x=1"
