"""What a failing tool's one line keeps: the lines that carry the cause, the last always."""

from __future__ import annotations

import json
import subprocess

from drctl.failures import EXIT_FAILED, EXIT_USAGE, describe, tool_stderr

MYSQLDUMP = """mysqldump: [Warning] Using a password on the command line interface can be insecure.
-- Connecting to 10.0.0.5...
mysqldump: Got error: 1045: Access denied for user 'backup'@'10.0.0.9' (using password: YES)
-- Disconnecting from 10.0.0.5...
"""


def test_the_cause_and_the_last_line_are_kept_in_order_on_one_line() -> None:
    line = tool_stderr(MYSQLDUMP)
    assert "\n" not in line
    assert line == (
        "mysqldump: Got error: 1045: Access denied for user 'backup'@'10.0.0.9' "
        "(using password: YES) | -- Disconnecting from 10.0.0.5..."
    )


def test_a_long_last_line_keeps_its_end() -> None:
    last = "x" * 1000 + " the cause"
    assert tool_stderr(f"noise\n{last}").endswith("the cause")


def test_no_stderr_says_so() -> None:
    assert tool_stderr(b"  \n") == "(nothing on stderr)"


def test_a_missing_program_is_named_as_not_installed() -> None:
    try:
        subprocess.run(["drstack-no-such-tool", "--version"], check=False)
    except FileNotFoundError as exc:
        code, line = describe(exc)
    assert code == EXIT_FAILED
    assert line.startswith("drstack-no-such-tool is not installed or not executable")


def test_a_truncated_json_file_is_bad_input_with_its_position() -> None:
    try:
        json.loads('{"name": "')
    except json.JSONDecodeError as exc:
        code, line = describe(exc)
    assert code == EXIT_USAGE and "not valid JSON" in line and "line 1 column" in line
