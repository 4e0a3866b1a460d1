"""The drstack policy pack, for `pulumi preview --policy-pack policy`.

This file ONLY builds the PolicyPack: constructing it starts the analyzer's gRPC server
and blocks, so nothing (tests included) may import this module. The policies live in
``policy/policies.py``; the Pulumi CLI runs this file from the ``policy/`` directory, so
the project root is put on ``sys.path`` first to import them (and ``stacks.config``).

Stack policies read the stack's config (RTO/RPO budget, toggles, sovereign data): the
stack name comes from the policy config key ``stack`` or ``PULUMI_STACK``, the values
from the engine's ``PULUMI_CONFIG`` or ``Pulumi.<stack>.yaml`` in the project directory
(see ``policy/policies.py``).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.policies import POLICIES  # noqa: E402

PolicyPack(
    name="drstack",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=list(POLICIES),
    description="drstack DR policies: security and backup basics, DR copies, failover "
    "health checks, KMS key regions, data sovereignty and the RTO/RPO budget",
)
