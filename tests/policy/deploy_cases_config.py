"""Bad cases of policy/deploy_config.py: each policy fires on a name, tag or key the
cloud would refuse at `up`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.policy.conftest import caught, mutate, record, run_policies, synth

T_BUCKET = "aws:s3/bucket:Bucket"
T_RDS = "aws:rds/instance:Instance"
T_LAMBDA = "aws:lambda/function:Function"
T_VPC = "aws:ec2/vpc:Vpc"
T_AZURE_VM = "azure-native:compute:VirtualMachine"


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda inputs: inputs.update(values)


def case_s3_bucket_name_rules() -> None:
    s = synth("seoul")
    resources, _ = mutate(s, T_BUCKET, "bucket-front", _set(bucket="xn--portforge-front"))
    caught("s3-bucket-name-rules", run_policies(s, resources), "'xn--portforge-front'", "'xn--'")


def case_rds_identifier_rules() -> None:
    s = synth("tokyo")
    long_id = "p" * 49 + "-dr-rds-replica"
    resources, _ = mutate(s, T_RDS, "dr-db", _set(identifier=long_id))
    caught("rds-identifier-rules", run_policies(s, resources), long_id, "1 to 63")


def case_lambda_function_name_rules() -> None:
    s = synth("tokyo")
    resources, _ = mutate(s, T_LAMBDA, "auto-function", _set(name="tokyo.drill-auto-failover"))
    caught("lambda-function-name-rules", run_policies(s, resources), "tokyo.drill-auto-failover")


def case_tag_limits() -> None:
    s = synth("seoul")

    def add_tags(inputs: dict[str, Any]) -> None:
        inputs["tags"] = {**(inputs.get("tags") or {}), "aws:owner": "ops", "Note": "x" * 300}

    resources, _ = mutate(s, T_VPC, "primary", add_tags)
    caught("tag-limits", run_policies(s, resources), "aws:", "'Note'", "256")


def case_azure_vm_login_rules() -> None:
    s = synth("azure-pilot")
    vm = record(
        T_AZURE_VM,
        "pilot-web",
        {
            "osProfile": {
                "adminUsername": "john",
                "linuxConfiguration": {
                    "ssh": {
                        "publicKeys": [{"keyData": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKey"}]
                    }
                },
            }
        },
        region="koreacentral",
    )
    violations = run_policies(s, [*s.resources, vm])
    caught("azure-vm-login-rules", violations, "'john' is reserved", "SSH key refused")


CASES: dict[str, Callable[[], None]] = {
    "s3-bucket-name-rules": case_s3_bucket_name_rules,
    "rds-identifier-rules": case_rds_identifier_rules,
    "lambda-function-name-rules": case_lambda_function_name_rules,
    "tag-limits": case_tag_limits,
    "azure-vm-login-rules": case_azure_vm_login_rules,
}
