"""A generated order-history table, grown in chunks with INSERT … SELECT (no client round trips).

Rows mix what real OLTP tables hold (ids, timestamps, enums, e-mail addresses, free
text with a random tail) so the dump compresses about as well as a real one (~2.5×).
"""

from __future__ import annotations

from drctl.sandbox.mariadb import MariaDBServer

DATABASE = "benchdb"
CHUNK_ROWS = 250_000
_CREATE = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.orders (
    id BIGINT PRIMARY KEY,
    customer_id INT NOT NULL,
    created_at DATETIME NOT NULL,
    status VARCHAR(16) NOT NULL,
    email VARCHAR(64) NOT NULL,
    amount DECIMAL(12,2) NOT NULL,
    note VARCHAR(255) NOT NULL
) ENGINE=InnoDB
"""


def grow_to(
    server: MariaDBServer, rows: int, *, database: str = DATABASE, binlog: bool = False
) -> int:
    """Add rows until the table holds ``rows``; returns the row count.

    ``binlog=True`` logs the inserts (the archiver benchmarks need binlog volume)."""
    server.execute(f"CREATE DATABASE IF NOT EXISTS {database}", _CREATE.replace(DATABASE, database))
    current = int(server.execute(f"SELECT COUNT(*) FROM {database}.orders")[0][0])
    while current < rows:
        upto = min(rows, current + CHUNK_ROWS)
        server.execute(
            f"SET SESSION sql_log_bin = {int(binlog)}",  # by default keep bulk loads out
            f"INSERT INTO {database}.orders "
            f"SELECT seq, seq MOD 97001, TIMESTAMP('2023-01-01') + INTERVAL seq SECOND, "
            "ELT(1 + seq MOD 5, 'new', 'paid', 'shipped', 'delivered', 'returned'), "
            "CONCAT('customer', seq MOD 97001, '@example.com'), (seq MOD 100000) / 7, "
            "CONCAT('order for customer ', seq MOD 97001, ' item ', seq MOD 1299, ' ref ', "
            "MD5(seq), ' ', SHA2(seq, 256)) "
            f"FROM seq_{current + 1}_to_{upto}",
            database=database,
        )
        current = upto
    return current
