"""Region-dark failover (static stability): a DR stack deploys with the primary region down.

When the primary region fails, its APIs fail too. The DR stack's `pulumi up` with a
failover toggle must then make no call there: no read of a primary-region resource
(``X.get(...)`` reads on every update), and no primary-region provider that calls STS or
the metadata API when it is configured. Resources it keeps in the primary region are
left untouched (no diff, no call) as long as their provider is configured statically.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policy.common import _res_region, _stack_policy, current_context

PROVIDER_DOC = "https://www.pulumi.com/registry/packages/aws/api-docs/provider/"
STATIC_STABILITY_DOC = (
    "https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/"
    "static-stability.html"
)
# The aws.Provider inputs (as the engine sees them) that make configure and diff call
# nothing: STS GetCallerIdentity (credentials, account id), IMDS, region lookup.
STATIC_FLAGS = (
    "skipCredentialsValidation",
    "skipRequestingAccountId",
    "skipMetadataApiCheck",
    "skipRegionValidation",
)


def _flag_on(value: Any) -> bool:
    # Provider inputs reach the engine JSON-encoded ("true") or as booleans.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    return value is True


def _primary_region_calls(args: StackValidationArgs, report: ReportViolation) -> None:
    ctx = current_context()
    if ctx.config is None or ctx.config.role != "dr" or not ctx.config.primary_region:
        args.not_applicable("only a DR stack must deploy with the primary region dark")
        return
    primary = ctx.config.primary_region
    reads = ctx.read_urns or frozenset()
    for res in args.resources:
        if res.resource_type == "pulumi:providers:aws":
            if res.props.get("region") != primary:
                continue
            missing = [f for f in STATIC_FLAGS if not _flag_on(res.props.get(f))]
            if missing:
                report(
                    f"provider {res.name} for the primary region {primary} calls the region "
                    f"when configured: set {', '.join(missing)} to true",
                    res.urn,
                )
        elif (
            res.urn in reads
            # A StackReference reads the state backend, not the primary region.
            and not res.resource_type.startswith("pulumi:")
            and _res_region(res) == primary
        ):
            report(
                f"{res.name} reads a {res.resource_type.rsplit(':', 1)[-1]} in the primary "
                f"region {primary} on every update; take the value from the primary stack's "
                "outputs (StackReference) instead",
                res.urn,
            )


POLICIES = [
    _stack_policy(
        "dr-no-primary-region-calls",
        "A DR stack deploys with the primary region dark: no read of a primary-region "
        "resource, and every primary-region aws.Provider skips credentials validation, the "
        f"account-id lookup, the metadata API check and region validation ({PROVIDER_DOC}; "
        f"static stability: {STATIC_STABILITY_DOC})",
        _primary_region_calls,
        "Create primary-region providers with stacks.shared.static_region_provider, and "
        "replace X.get(...) reads of primary resources with the primary stack's outputs.",
    ),
]
