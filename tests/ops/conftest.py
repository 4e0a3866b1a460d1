"""Fixtures for the drctl operations tests: a small two-region DR world in moto.

moto gaps are bridged here, and only here (never in product code):
* ``promote_read_replica`` leaves ``ReadReplicaSourceDBInstanceIdentifier`` set —
  ``moto_promotion_clears_source`` patches the moto backend so promotion clears it,
  as real RDS does.
* a cross-region ``create_db_instance_read_replica`` resolves ``DBSubnetGroupName`` in
  the SOURCE's region (moto copies the source and sets the new region last) —
  ``moto_replica_in_its_own_region`` makes it resolve in the replica's region, as RDS does.
* Route 53 health checks are always healthy — tests that need a failing primary
  inject a status reader into ``Route53DnsSwitch``.
* DynamoDB/S3 data is not replicated — status tests mirror writes with a botocore hook.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.rds.models import RDSBackend

from drctl.aws import ClientFactory

SEOUL = "ap-northeast-2"
TOKYO = "ap-northeast-1"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def moto_aws(aws_credentials: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def moto_promotion_clears_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seam for moto gap: real RDS clears the source field when a replica is promoted."""
    original = RDSBackend.promote_read_replica

    def promote(self: RDSBackend, db_kwargs: dict[str, Any]) -> Any:
        database = original(self, db_kwargs)
        database.source_db_instance_identifier = None
        return database

    monkeypatch.setattr(RDSBackend, "promote_read_replica", promote)


@pytest.fixture
def moto_replica_in_its_own_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seam for moto gap: a cross-region replica's subnet group lives in ITS region."""
    original = RDSBackend.create_db_instance_read_replica

    def create(self: RDSBackend, db_kwargs: dict[str, Any]) -> Any:
        if self.arn_regex.match(db_kwargs["source_db_instance_identifier"]):
            # moto applies the kwargs in order: the backend (region) must come first.
            db_kwargs = {"backend": self, **db_kwargs}
        return original(self, db_kwargs)

    monkeypatch.setattr(RDSBackend, "create_db_instance_read_replica", create)


@pytest.fixture
def moto_exact_dimensions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seam for moto gap: moto's GetMetricStatistics returns datapoints of any metric
    whose dimensions CONTAIN the requested ones; CloudWatch "treats each unique
    combination of dimensions as a separate metric ... You must specify the same
    dimensions that were used when the metrics were created" (GetMetricStatistics API
    reference: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html)."""
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.get_metric_statistics

    def exact(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Any:
        wanted = sorted((d["Name"], d.get("Value")) for d in kwargs.get("dimensions") or [])
        every = CloudWatchBackend.get_all_metrics

        def same_set(backend: CloudWatchBackend) -> list[Any]:
            return [
                md
                for md in every(backend)
                if sorted((d.name, d.value) for d in md.dimensions) == wanted
            ]

        monkeypatch.setattr(CloudWatchBackend, "get_all_metrics", same_set)
        try:
            return original(self, *args, **kwargs)
        finally:
            monkeypatch.setattr(CloudWatchBackend, "get_all_metrics", every)

    monkeypatch.setattr(CloudWatchBackend, "get_metric_statistics", exact)


class FakeScaler:
    """In-memory Scaler: Kubernetes is not emulated by moto."""

    def __init__(self, replicas: dict[str, int]) -> None:
        self.replicas = dict(replicas)
        self.calls: list[dict[str, int]] = []

    def current_replicas(self) -> dict[str, int]:
        return dict(self.replicas)

    def scale(self, replicas: dict[str, int]) -> None:
        self.calls.append(dict(replicas))
        self.replicas.update(replicas)

    def wait_ready(self, replicas: dict[str, int], timeout_seconds: float) -> None:
        assert all(self.replicas[name] >= count for name, count in replicas.items())


class HealthServer:
    """A local /health endpoint answering as the given region."""

    def __init__(self, region: str, status: int = 200) -> None:
        self.region = region
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps({"region": outer.region}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                """Keep the test output free of access-log lines."""

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def health_server() -> Iterator[HealthServer]:
    server = HealthServer(TOKYO)
    yield server
    server.close()


@dataclass
class DrWorld:
    outputs: dict[str, dict[str, Any]]
    outputs_path: Path
    factory: ClientFactory
    state_dir: Path
    scaler: FakeScaler
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str, region: str) -> Any:
        return self.factory.client(service, region)

    def set_lag(
        self,
        seconds: float,
        instance_id: str | None = None,
        region: str = TOKYO,
        at: datetime | None = None,
    ) -> None:
        """A ReplicaLag datapoint as RDS publishes it: -1 while replication is not
        running (moto never reports it; RDS User Guide, Monitoring read replicas:
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_MySQL.Replication.ReadReplicas.Monitor.html)."""
        self.client("cloudwatch", region).put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "ReplicaLag",
                    "Dimensions": [
                        {
                            "Name": "DBInstanceIdentifier",
                            "Value": instance_id or self.outputs["tokyo"]["replica_instance_id"],
                        }
                    ],
                    "Timestamp": at or datetime.now(UTC),
                    "Value": seconds,
                    "Unit": "Seconds",
                }
            ],
        )

    def replica(self) -> dict[str, Any]:
        rds = self.client("rds", TOKYO)
        instance_id = self.outputs["tokyo"]["replica_instance_id"]
        result: dict[str, Any] = rds.describe_db_instances(DBInstanceIdentifier=instance_id)[
            "DBInstances"
        ][0]
        return result

    def switch_config(self) -> dict[str, Any]:
        """The failover switch: the check drctl inverts to force DNS to Tokyo."""
        route53 = self.client("route53", "us-east-1")
        hc_id = self.outputs["tokyo"]["failover_switch_id"]
        config: dict[str, Any] = route53.get_health_check(HealthCheckId=hc_id)["HealthCheck"][
            "HealthCheckConfig"
        ]
        return config


def create_lock_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "lock_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "lock_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def kubeconfig(cluster: str) -> str:
    """A well-formed kubeconfig whose API server refuses connections (port 9): the
    token in it is a secret output that must never reach the terminal."""
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: {cluster}, cluster: {{server: 'https://127.0.0.1:9'}}}}]\n"
        f"contexts: [{{name: {cluster}, context: {{cluster: {cluster}, user: {cluster}}}}}]\n"
        f"current-context: {cluster}\n"
        f"users: [{{name: {cluster}, user: {{token: secret-token-should-never-print}}}}]\n"
    )


def create_db_network(factory: ClientFactory, region: str) -> dict[str, Any]:
    """A region's KMS key, DB subnet group and security group, as the primary stack
    exports them (what the failback's reverse replica is created with)."""
    ec2 = factory.client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    group = ec2.create_security_group(GroupName="mysql", Description="mysql", VpcId=vpc)
    rds = factory.client("rds", region)
    rds.create_db_subnet_group(
        DBSubnetGroupName="portforge-rds-subnets",
        DBSubnetGroupDescription="db",
        SubnetIds=subnets,
    )
    key = factory.client("kms", region).create_key(Description="rds")["KeyMetadata"]["Arn"]
    return {
        "rds_kms_key_arn": key,
        "rds_subnet_group_name": "portforge-rds-subnets",
        "rds_security_group_ids": [group["GroupId"]],
    }


_SHARED_SESSION: boto3.session.Session | None = None


def shared_session() -> boto3.session.Session:
    """One session for all tests: botocore caches parsed service models per session,
    and re-parsing them for every test dominated the run time."""
    global _SHARED_SESSION
    if _SHARED_SESSION is None:
        _SHARED_SESSION = boto3.session.Session()
    return _SHARED_SESSION


@pytest.fixture
def dr_world(
    moto_aws: None,
    moto_replica_in_its_own_region: None,
    tmp_path: Path,
    health_server: HealthServer,
) -> DrWorld:
    factory = ClientFactory(session=shared_session(), max_attempts=2)
    seoul_rds = factory.client("rds", SEOUL)
    primary = seoul_rds.create_db_instance(
        DBInstanceIdentifier="drstack-seoul-mysql",
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password",
        BackupRetentionPeriod=7,
    )["DBInstance"]
    tokyo_rds = factory.client("rds", TOKYO)
    replica = tokyo_rds.create_db_instance_read_replica(
        DBInstanceIdentifier="drstack-tokyo-replica",
        SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        DBInstanceClass="db.t3.micro",
    )["DBInstance"]
    seoul_db_network = create_db_network(factory, SEOUL)
    route53 = factory.client("route53", "us-east-1")
    zone = route53.create_hosted_zone(Name="portforge.example.", CallerReference="zone")
    health_check = route53.create_health_check(
        CallerReference="primary",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": "seoul.portforge.example",
            "ResourcePath": "/health",
            "Port": 443,
            "RequestInterval": 10,
            "FailureThreshold": 3,
        },
    )["HealthCheck"]
    # The always-healthy calculated check that gates the PRIMARY record with the probe.
    switch = route53.create_health_check(
        CallerReference="switch",
        HealthCheckConfig={"Type": "CALCULATED", "HealthThreshold": 0, "ChildHealthChecks": []},
    )["HealthCheck"]
    create_lock_table(factory.client("dynamodb", TOKYO), "drstack-tokyo-failover-lock")
    topic = factory.client("sns", TOKYO).create_topic(Name="drstack-tokyo-failover")["TopicArn"]
    outputs: dict[str, dict[str, Any]] = {
        "seoul": {
            "region": SEOUL,
            "rds_instance_id": "drstack-seoul-mysql",
            "rds_instance_arn": primary["DBInstanceArn"],
            **seoul_db_network,
            "kubeconfig": kubeconfig("seoul"),
        },
        "tokyo": {
            "region": TOKYO,
            "strategy": "warm-standby",
            "app_url": health_server.url,
            "replica_instance_id": "drstack-tokyo-replica",
            "replica_instance_arn": replica["DBInstanceArn"],
            "health_check_id": health_check["Id"],
            "failover_switch_id": switch["Id"],
            "hosted_zone_id": zone["HostedZone"]["Id"].split("/")[-1],
            "record_fqdn": "api.portforge.example",
            "lock_table_name": "drstack-tokyo-failover-lock",
            "sns_topic_arn": topic,
            "max_lag_seconds": 30,
            "deployments": {"auth-deployment": 2, "team-service": 2},
            "standby_deployments": {"auth-deployment": 1, "team-service": 1},
            "kubeconfig": kubeconfig("tokyo"),
        },
    }
    outputs_path = tmp_path / "outputs.json"
    outputs_path.write_text(json.dumps(outputs))
    return DrWorld(
        outputs=outputs,
        outputs_path=outputs_path,
        factory=factory,
        state_dir=tmp_path / "runs",
        scaler=FakeScaler({"auth-deployment": 1, "team-service": 1}),
    )


@pytest.fixture
def cli(dr_world: DrWorld, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A CLI runner whose drctl talks to this test world (clients and scaler)."""
    from typer.testing import CliRunner

    from drctl import command_support, failover_command

    monkeypatch.setattr(command_support, "make_client_factory", lambda: dr_world.factory)
    monkeypatch.setattr(failover_command, "make_scaler", lambda outputs, options: dr_world.scaler)
    return CliRunner()


def make_ops_app() -> Any:
    """A Typer app with this toolkit's commands, registered the way cli.py does it.

    A fresh app per test module keeps these tests independent of other command
    modules (and Typer needs >1 command to keep subcommand names).
    """
    import importlib

    import typer

    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    for module in ("drctl.status_command", "drctl.failover_command", "drctl.report_command"):
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(module).register(app)
    return app
