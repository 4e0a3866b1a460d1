"""`drctl status`: every check against a healthy world and a broken one.

moto gaps bridged here: DynamoDB has no global tables (``moto_global_tables`` adds
``Replicas`` to the describe output and mirrors probe writes to the DR region);
Route 53 checks are always healthy (the failing case patches the status response).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from moto.dynamodb.models.table import Table
from typer.testing import CliRunner

from drctl import command_support
from drctl.stack_outputs import StackOutputs
from drctl.status_checks import ERROR, FAIL, OK, SKIP, StatusContext, exit_code, run_checks

from .conftest import SEOUL, TOKYO, DrWorld, make_ops_app

app = make_ops_app()
TABLE = "team_chats_ddb"


@pytest.fixture
def moto_global_tables(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Seam: replica status per table name, as DescribeTable would report it."""
    statuses: dict[str, str] = {}
    original = Table.describe

    def describe(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
        result = original(self, base_key)
        if self.name in statuses:
            result[base_key]["Replicas"] = [
                {"RegionName": SEOUL, "ReplicaStatus": statuses[self.name]}
            ]
        return result

    monkeypatch.setattr(Table, "describe", describe)
    return statuses


def mirror_dynamodb_writes(world: DrWorld) -> None:
    """Seam: stand in for global-table replication of the probe item (moto has none)."""
    tokyo = world.client("dynamodb", TOKYO)

    def after_put(params: dict[str, Any], **_: Any) -> None:
        tokyo.put_item(TableName=params["TableName"], Item=params["Item"])

    def after_delete(params: dict[str, Any], **_: Any) -> None:
        tokyo.delete_item(TableName=params["TableName"], Key=params["Key"])

    events = world.client("dynamodb", SEOUL).meta.events
    events.register("provide-client-params.dynamodb.PutItem", lambda params, **k: after_put(params))
    events.register(
        "provide-client-params.dynamodb.DeleteItem", lambda params, **k: after_delete(params)
    )


class FakeCore:
    def __init__(self, ready: bool = True, phase: str = "Running") -> None:
        self.ready, self.phase = ready, phase

    def list_node(self) -> Any:
        cond = SimpleNamespace(type="Ready", status="True" if self.ready else "False")
        return SimpleNamespace(items=[SimpleNamespace(status=SimpleNamespace(conditions=[cond]))])

    def list_pod_for_all_namespaces(self) -> Any:
        pod = SimpleNamespace(
            metadata=SimpleNamespace(namespace="default", name="auth-1"),
            status=SimpleNamespace(phase=self.phase),
        )
        return SimpleNamespace(items=[pod])


@pytest.fixture
def status_world(dr_world: DrWorld, moto_global_tables: dict[str, str]) -> DrWorld:
    w = dr_world
    eks = w.client("eks", TOKYO)
    eks.create_cluster(
        name="drstack-tokyo-eks",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    eks.create_nodegroup(
        clusterName="drstack-tokyo-eks",
        nodegroupName="standby",
        nodeRole="arn:aws:iam::123456789012:role/node",
        subnets=["subnet-1"],
    )
    for region in (SEOUL, TOKYO):
        w.client("dynamodb", region).create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "chat_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "chat_id", "AttributeType": "S"}],
        )
    moto_global_tables[TABLE] = "ACTIVE"
    mirror_dynamodb_writes(w)
    s3_seoul, s3_tokyo = w.client("s3", SEOUL), w.client("s3", TOKYO)
    s3_seoul.create_bucket(
        Bucket="portforge-team", CreateBucketConfiguration={"LocationConstraint": SEOUL}
    )
    s3_tokyo.create_bucket(
        Bucket="portforge-team-dr", CreateBucketConfiguration={"LocationConstraint": TOKYO}
    )
    for client, bucket in ((s3_seoul, "portforge-team"), (s3_tokyo, "portforge-team-dr")):
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3_seoul.put_bucket_replication(
        Bucket="portforge-team",
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "dr",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::portforge-team-dr"},
                }
            ],
        },
    )
    for region in (TOKYO, SEOUL):  # one build, pushed to both regions
        for repo in ("auth-service", "team-service"):
            push_image(w, region, repo, IMAGE_TAG)
    secret = w.client("secretsmanager", SEOUL).create_secret(
        Name="portforge/db", SecretString="s3cr3t", AddReplicaRegions=[{"Region": TOKYO}]
    )
    w.outputs["seoul"].update(
        {
            "bucket_names": {"team": "portforge-team"},
            "ecr_repository_names": ["auth-service", "team-service"],
            "secret_arns": {"db": secret["ARN"]},
        }
    )
    w.outputs["tokyo"].update(
        {
            "eks_cluster_name": "drstack-tokyo-eks",
            "dynamodb_table_names": [TABLE],
            "dr_bucket_names": {"team": "portforge-team-dr"},
            "image_tags": {"auth-service": IMAGE_TAG, "team-service": IMAGE_TAG},
        }
    )
    w.outputs_path.write_text(json.dumps(w.outputs))
    w.set_lag(1.0)
    return w


IMAGE_TAG = "2026.11.29-3f2a1c"


def push_image(w: DrWorld, region: str, repo: str, tag: str, config: str = "a") -> None:
    ecr = w.client("ecr", region)
    if repo not in {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}:
        ecr.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
    ecr.put_image(
        repositoryName=repo,
        imageTag=tag,
        imageManifest=json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{config * 64}", "size": 1, "mediaType": "x"},
                # moto derives the image digest from the layer digests.
                "layers": [{"digest": f"sha256:{config * 64}", "size": 1, "mediaType": "x"}],
            }
        ),
    )


def _rebuild_in_seoul(w: DrWorld, repo: str) -> None:
    """Another build under the same tag in Seoul: the regions no longer run one image."""
    w.client("ecr", SEOUL).batch_delete_image(
        repositoryName=repo, imageIds=[{"imageTag": IMAGE_TAG}]
    )
    push_image(w, SEOUL, repo, IMAGE_TAG, config="b")


def context(world: DrWorld, core: Any = None) -> StatusContext:
    return StatusContext(
        outputs=StackOutputs(world.outputs, "test"),
        factory=world.factory,
        max_lag_seconds=30,
        probe_timeout_seconds=1,
        kube_core_api=(lambda _kubeconfig: core) if core else None,
    )


def by_name(results: list[Any]) -> dict[str, Any]:
    return {r.name: r for r in results}


def test_healthy_world_all_checks_pass(status_world: DrWorld) -> None:
    results = run_checks(context(status_world, FakeCore()))
    statuses = {r.name: r.status for r in results}
    assert statuses == {
        "eks cluster": OK,
        "eks nodes/pods": OK,
        "rds replica": OK,
        f"dynamodb {TABLE}": OK,
        "s3 team": OK,
        "ecr": OK,
        "route53 health check": OK,
        "secret " + status_world.outputs["seoul"]["secret_arns"]["db"].split(":")[-1]: OK,
        "binlog archive": SKIP,  # no azure-pilot stack in these outputs
    }, [r for r in results if r.status not in (OK, SKIP)]
    assert exit_code(results) == 0
    # Probe items are cleaned up in both regions.
    assert status_world.client("dynamodb", TOKYO).scan(TableName=TABLE)["Count"] == 0


def _break_lag(w: DrWorld) -> None:
    w.set_lag(600.0)


def _stop_replication(w: DrWorld) -> None:
    w.set_lag(-1.0)  # RDS: replication not running; never "lag -1.0s", never OK


BREAKERS: dict[str, tuple[str, Callable[[DrWorld], Any]]] = {
    "eks cluster": (
        "eks cluster",
        lambda w: w.client("eks", TOKYO).delete_nodegroup(
            clusterName="drstack-tokyo-eks", nodegroupName="standby"
        ),
    ),
    "rds lag": ("rds replica", _break_lag),
    "rds replication stopped": ("rds replica", _stop_replication),
    "rds promoted": (
        "rds replica",
        lambda w: w.client("rds", TOKYO).promote_read_replica(
            DBInstanceIdentifier="drstack-tokyo-replica"
        ),
    ),
    "dynamodb replica": (
        f"dynamodb {TABLE}",
        lambda w: w.client("dynamodb", TOKYO).delete_table(TableName=TABLE),
    ),
    "s3 versioning": (
        "s3 team",
        lambda w: w.client("s3", TOKYO).put_bucket_versioning(
            Bucket="portforge-team-dr", VersioningConfiguration={"Status": "Suspended"}
        ),
    ),
    "s3 replication": (
        "s3 team",
        lambda w: w.client("s3", SEOUL).delete_bucket_replication(Bucket="portforge-team"),
    ),
    "ecr pinned tag": (
        "ecr",
        lambda w: w.client("ecr", TOKYO).batch_delete_image(
            repositoryName="team-service", imageIds=[{"imageTag": IMAGE_TAG}]
        ),
    ),
    "ecr digest differs": ("ecr", lambda w: _rebuild_in_seoul(w, "auth-service")),
    "route53 inverted": (
        "route53 health check",
        lambda w: w.client("route53", "us-east-1").update_health_check(
            HealthCheckId=w.outputs["tokyo"]["failover_switch_id"], Inverted=True
        ),
    ),
    "secret replica": (
        "secret",
        lambda w: w.client("secretsmanager", SEOUL).remove_regions_from_replication(
            SecretId=w.outputs["seoul"]["secret_arns"]["db"], RemoveReplicaRegions=[TOKYO]
        ),
    ),
}


@pytest.mark.usefixtures("moto_promotion_clears_source")
@pytest.mark.parametrize("breaker", sorted(BREAKERS))
def test_each_check_detects_its_breakage(status_world: DrWorld, breaker: str) -> None:
    check_name, breaks = BREAKERS[breaker]
    breaks(status_world)
    results = run_checks(context(status_world, FakeCore()))
    failing = {r.name for r in results if r.status not in (OK, SKIP)}
    assert len(failing) == 1 and next(iter(failing)).startswith(check_name), results
    assert exit_code(results) == 1


def test_dynamodb_probe_not_replicated_fails(
    status_world: DrWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = type(status_world.factory)(max_attempts=1)  # new clients: no mirroring hook
    status_world.factory = fresh
    results = by_name(run_checks(context(status_world)))
    assert results[f"dynamodb {TABLE}"].status == FAIL
    assert "not replicated within 1s" in results[f"dynamodb {TABLE}"].detail


def test_dynamodb_replica_not_active_fails(
    status_world: DrWorld, moto_global_tables: dict[str, str]
) -> None:
    moto_global_tables[TABLE] = "UPDATING"
    result = by_name(run_checks(context(status_world)))[f"dynamodb {TABLE}"]
    assert result.status == FAIL and f"replica {SEOUL} UPDATING" in result.detail


def test_route53_primary_unhealthy_fails(status_world: DrWorld) -> None:
    # Seam: moto reports every checker healthy; answer as Route 53 does when it is not.
    def unhealthy(**_: Any) -> Any:
        body = {
            "HealthCheckObservations": [
                {"Region": "us-east-1", "StatusReport": {"Status": "Failure: HTTP 503"}}
            ]
        }
        return SimpleNamespace(status_code=200), body

    status_world.client("route53", "us-east-1").meta.events.register(
        "before-call.route53.GetHealthCheckStatus", unhealthy
    )
    result = by_name(run_checks(context(status_world)))["route53 health check"]
    assert result.status == FAIL and "primary observed unhealthy" in result.detail


def test_kubernetes_not_ready_fails_and_is_skipped_without_kubeconfig(
    status_world: DrWorld,
) -> None:
    result = by_name(run_checks(context(status_world, FakeCore(ready=False, phase="Pending"))))
    assert result["eks nodes/pods"].status == FAIL
    assert "0/1 nodes Ready" in result["eks nodes/pods"].detail
    assert "default/auth-1 Pending" in result["eks nodes/pods"].detail
    status_world.outputs["tokyo"].pop("kubeconfig", None)
    assert by_name(run_checks(context(status_world, FakeCore())))["eks nodes/pods"].status == SKIP


def test_checks_that_cannot_run_report_why(status_world: DrWorld) -> None:
    def denied(**_: Any) -> Any:
        return SimpleNamespace(status_code=403), {
            "Error": {"Code": "AccessDeniedException", "Message": "no"},
            "ResponseMetadata": {},
        }

    def unreachable(**_: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://eks.ap-northeast-1.amazonaws.com")

    status_world.client("ecr", TOKYO).meta.events.register(
        "before-call.ecr.DescribeRepositories", denied
    )
    status_world.client("eks", TOKYO).meta.events.register("before-call.eks.*", unreachable)
    del status_world.outputs["tokyo"]["replica_instance_id"]
    results = by_name(run_checks(context(status_world)))
    assert results["ecr"].status == ERROR
    assert (
        "permission denied (AccessDeniedException) on DescribeRepositories" in results["ecr"].detail
    )
    assert results["eks cluster"].status == ERROR and "unreachable" in results["eks cluster"].detail
    assert results["rds replica"].status == ERROR
    assert "missing output key tokyo.replica_instance_id" in results["rds replica"].detail
    assert results["s3 team"].status == OK  # the rest still ran


def test_status_cli_json_and_exit_code(
    status_world: DrWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command_support, "make_client_factory", lambda: status_world.factory)
    runner = CliRunner()
    args = ["status", "--outputs", str(status_world.outputs_path), "--probe-timeout", "1"]
    healthy = runner.invoke(app, [*args, "--json"])
    checks = json.loads(healthy.stdout)["checks"]
    # No kubeconfig that parses in the test: the pod check reports why instead of crashing.
    assert {c["name"]: c["status"] for c in checks}["rds replica"] == OK
    assert "secret-token" not in healthy.output
    status_world.set_lag(600)
    broken = runner.invoke(app, args)
    assert broken.exit_code == 1
    assert "rds replica" in broken.output and "FAIL" in broken.output


def test_ecr_checks_the_pinned_tags_not_latest(status_world: DrWorld) -> None:
    ecr = by_name(run_checks(context(status_world)))["ecr"]
    assert ecr.status == OK, ecr
    assert "2/2 pinned images present" in ecr.detail and "digests match seoul" in ecr.detail
    # A `latest` alone is not enough: the Deployments pull the pinned tag.
    push_image(status_world, TOKYO, "team-service", "latest")
    status_world.client("ecr", TOKYO).batch_delete_image(
        repositoryName="team-service", imageIds=[{"imageTag": IMAGE_TAG}]
    )
    ecr = by_name(run_checks(context(status_world)))["ecr"]
    assert ecr.status == FAIL
    assert f"pinned image not in {TOKYO}: team-service:{IMAGE_TAG}" in ecr.detail


def test_ecr_digest_comparison_is_best_effort_when_seoul_is_dark(status_world: DrWorld) -> None:
    def dark(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://api.ecr.{SEOUL}.amazonaws.com/")

    status_world.client("ecr", SEOUL).meta.events.register("before-call.ecr.DescribeImages", dark)
    ecr = by_name(run_checks(context(status_world)))["ecr"]
    assert ecr.status == OK, ecr
    assert "seoul not compared (cannot run: endpoint unreachable" in ecr.detail


def test_ecr_accepts_a_digest_pin(status_world: DrWorld) -> None:
    digest = status_world.client("ecr", TOKYO).describe_images(
        repositoryName="auth-service", imageIds=[{"imageTag": IMAGE_TAG}]
    )["imageDetails"][0]["imageDigest"]
    status_world.outputs["tokyo"]["image_tags"] = {"auth-service": digest}
    ecr = by_name(run_checks(context(status_world)))["ecr"]
    assert ecr.status == OK and "1/1 pinned images present" in ecr.detail, ecr
