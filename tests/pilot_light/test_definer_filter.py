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


def _reference(dump: bytes) -> bytes:
    """The rule, line by line on the whole text: what any chunking must produce.
    An INSERT runs from its ``INSERT INTO`` line to the line ending in ";"."""
    out, in_insert = [], False
    for line in dump.split(b"\n"):
        in_insert = in_insert or line.startswith(b"INSERT INTO ")
        out.append(line if in_insert else strip_definer(line))
        in_insert = in_insert and not line.endswith(b";")
    return b"\n".join(out)


def test_random_chunkings_of_long_data_lines_match_the_line_by_line_rule() -> None:
    import random

    rng = random.Random(12)
    values = b",".join(
        b"(%d,'DEFINER=`x`@`y` %s')" % (i, b"v" * rng.randrange(40)) for i in range(3000)
    )
    dump = (
        b"CREATE DEFINER=`a`@`%` VIEW v AS SELECT 1\n"
        + b"INSERT INTO `t` VALUES "
        + values
        + b";\n"
        + b"INSERT INTOx DEFINER=`b`@`%` not a data line\n"
        + b"INSERT INTO `t` VALUES "
        + values
        + b";\n"
        + b"/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n"
        + b"INSERT INTO `t` VALUES\n"
        + values.replace(b"),(", b"),\n(")
        + b";\nCREATE DEFINER=`c`@`%` PROCEDURE p() SELECT ';'\n"
        + b"-- Dump completed\n"
    )
    for _ in range(40):
        definers, out, at = DefinerFilter(), [], 0
        while at < len(dump):
            size = rng.choice([1, 5, 11, 12, 13, 100, 4096, 50_000])
            out.append(bytes(definers.feed(dump[at : at + size])))
            at += size
        assert b"".join(out) + definers.flush() == _reference(dump)


def test_a_piece_inside_a_long_insert_line_passes_without_a_copy() -> None:
    # Restore throughput: a dump is almost all extended INSERT lines of up to 1 MiB.
    definers = DefinerFilter()
    definers.feed(b"CREATE TABLE t (id INT);\nINSERT INTO `t` VALUES (1,'a'),")
    middle = b"(2,'b')," * 100_000
    assert definers.feed(middle) is middle


def test_rows_on_their_own_lines_are_data_too() -> None:
    # MariaDB's dump writes `INSERT INTO t VALUES` and then one row per line: a value
    # that reads like a DEFINER clause is still data and must arrive byte for byte.
    dump = (
        b"CREATE DEFINER=`a`@`%` VIEW v AS SELECT 1\n"
        b"INSERT INTO `audit` VALUES\n"
        b"(1,'CREATE DEFINER=`root`@`localhost` VIEW x'),\n"
        b"(2,'DEFINER=`ops`@`%` ;'),\n"
        b"(3,'ok');\n"
        b"/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n"
    )
    out, rewritten = _streamed(dump, 7)
    assert rewritten == 2
    assert out.split(b"\n")[1:5] == dump.split(b"\n")[1:5]
