"""IAM documents shared by the components."""

from __future__ import annotations

import json
from collections.abc import Sequence


def assume_role_policy(service: str, actions: Sequence[str] = ("sts:AssumeRole",)) -> str:
    """The trust policy that lets one AWS service principal assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": actions[0] if len(actions) == 1 else list(actions),
                }
            ],
        }
    )
