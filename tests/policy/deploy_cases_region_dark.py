"""Bad cases of policy/deploy_region_dark.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from policy import policies as T
from tests.policy.conftest import caught, mutate, record, run_policies, synth


def case_primary_region_calls() -> None:
    t = synth("tokyo")
    # A primary-region provider that validates credentials (STS) at configure time.
    rs, _ = mutate(
        t,
        "pulumi:providers:aws",
        "ap-northeast-2-source",
        lambda i: i.pop("skipCredentialsValidation"),
    )
    caught("dr-no-primary-region-calls", run_policies(t, rs), "skipCredentialsValidation")
    # A read of a primary-region resource (the old BucketVersioning.get of a source).
    read = replace(
        record(T.T_VERSIONING, "source-versioning", {"id": "portforge-front"}),
        read=True,
    )
    caught(
        "dr-no-primary-region-calls",
        run_policies(t, [*t.resources, read]),
        "reads a BucketVersioning in the primary region",
    )


CASES: dict[str, Callable[[], None]] = {
    "dr-no-primary-region-calls": case_primary_region_calls,
}
