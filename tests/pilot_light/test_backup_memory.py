"""The backup's compressor keeps the process small (backup under 100 MB VmHWM).

Peak RSS is the kernel's VmHWM of a fresh interpreter, read before and after the
default backup compressor has squeezed 48 MiB of dump-like SQL: what the compressor's
own buffers add, independent of machine speed. zstd worker threads each hold input and
output job buffers (2 workers: +16–25 MB measured); compressing in the calling thread
keeps the whole stage within a few MB.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import os
from drctl.pilotlight.backup import BackupOptions
from drctl.pilotlight.formats import make_compressor

def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024

options = BackupOptions(database="shop")
rows = b"".join(
    b"(%d,%d,'2023-01-01 00:00:00','paid','customer%d@example.com',%d.00,'%s')," % (
        i, i % 97, i % 97, i % 1000, os.urandom(24).hex().encode())
    for i in range(8192)
)  # ~1 MiB
before = hwm()
compressor = make_compressor(options.fmt, options.level, options.threads)
for _ in range(48):
    compressor.compress(rows)
compressor.flush()
print(hwm() - before)
"""


def test_the_default_backup_compressor_adds_under_8_mb_of_peak_rss() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert float(out.stdout.strip()) < 8.0
