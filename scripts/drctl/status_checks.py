"""Seed 000 §4 component checks and the §8 checklist, as independent check functions.

Each check returns ``CheckResult``s and is run in a thread pool. A check that cannot
run (missing permission, unreachable endpoint, missing stack output) reports why as its
result; it never stops the other checks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from drctl import deadline
from drctl.aws import ClientFactory
from drctl.failover.lag import LagReading
from drctl.failover.rds import CloudWatchLagReader
from drctl.failover.route53 import observed_healthy_fraction
from drctl.stack_outputs import OutputsError, StackOutputs

OK, FAIL, ERROR, SKIP = "ok", "fail", "error", "skip"
DEADLINE_GRACE_SECONDS = 5.0
ROUTE53_REGION = "us-east-1"
PILOT_STACK = "azure-pilot"
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
}


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class StatusContext:
    outputs: StackOutputs
    factory: ClientFactory
    dr_stack: str = "tokyo"
    primary_stack: str = "seoul"
    max_lag_seconds: float = 60.0
    probe_timeout_seconds: float = 5.0
    # Builds a CoreV1Api from the kubeconfig output; replaced in tests.
    kube_core_api: Callable[[Any], Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dr_region(self) -> str:
        return str(self.outputs.get(self.dr_stack, "region"))

    @property
    def primary_region(self) -> str:
        return str(self.outputs.get(self.primary_stack, "region"))

    def client(self, service: str, region: str) -> Any:
        return self.factory.client(service, region)


def _names(value: Any) -> list[str]:
    """Outputs hold names as a list or as role -> name; checks need the names."""
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)] if value else []


def explain_failure(exc: BaseException) -> str:
    timed_out = deadline.gave_up(exc)
    if timed_out is not None:
        return f"gave up: {timed_out}"
    if isinstance(exc, OutputsError):
        return f"cannot run: {exc}"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "?")
        operation = exc.operation_name
        if code in _DENIED:
            return f"cannot run: permission denied ({code}) on {operation}"
        return f"cannot run: {code} on {operation}: {exc.response['Error'].get('Message', '')}"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot run: endpoint unreachable ({exc.kwargs.get('endpoint_url', '?')})"
    if isinstance(exc, BotoCoreError):
        return f"cannot run: {exc}"
    return f"cannot run: {type(exc).__name__}: {exc}"


# --- the checks -------------------------------------------------------------------


def check_eks(ctx: StatusContext) -> list[CheckResult]:
    name = ctx.outputs.get(ctx.dr_stack, "eks_cluster_name")
    eks = ctx.client("eks", ctx.dr_region)
    status = eks.describe_cluster(name=name)["cluster"]["status"]
    problems = [] if status == "ACTIVE" else [f"cluster {status}"]
    groups = eks.list_nodegroups(clusterName=name).get("nodegroups", [])
    if not groups:
        problems.append("no node groups")
    for group in groups:
        info = eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]
        issues = info.get("health", {}).get("issues", [])
        if info["status"] != "ACTIVE" or issues:
            problems.append(f"node group {group} {info['status']} ({len(issues)} health issues)")
    detail = f"{name}: {status}, {len(groups)} node group(s)"
    return [
        CheckResult(
            "eks cluster",
            FAIL if problems else OK,
            "; ".join([detail, *problems]) if problems else detail,
        )
    ]


def check_kubernetes(ctx: StatusContext) -> list[CheckResult]:
    kubeconfig = ctx.outputs.optional(ctx.dr_stack, "kubeconfig")
    if not kubeconfig or ctx.kube_core_api is None:
        return [CheckResult("eks nodes/pods", SKIP, "no kubeconfig output available")]
    core = ctx.kube_core_api(kubeconfig)
    nodes = core.list_node().items
    ready = [
        n
        for n in nodes
        if any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or []))
    ]
    pods = core.list_pod_for_all_namespaces().items
    bad = [
        f"{p.metadata.namespace}/{p.metadata.name} {p.status.phase}"
        for p in pods
        if p.status.phase not in ("Running", "Succeeded")
    ]
    problems = []
    if not nodes or len(ready) < len(nodes):
        problems.append(f"{len(ready)}/{len(nodes)} nodes Ready")
    if bad:
        problems.append("pods not running: " + ", ".join(bad[:5]))
    detail = f"{len(ready)}/{len(nodes)} nodes Ready, {len(pods) - len(bad)}/{len(pods)} pods ok"
    return [
        CheckResult(
            "eks nodes/pods", FAIL if problems else OK, "; ".join(problems) if problems else detail
        )
    ]


def _lag_problem(ctx: StatusContext, reading: LagReading, metric: str) -> tuple[str, str | None]:
    """A negative lag (ReplicaLag -1: replication not running) is a problem, not OK."""
    lag = reading.seconds
    if lag is None and reading.reported is None:
        missing = f"{metric} MISSING (no {metric} datapoints in the last 10 min)"
        return "lag missing", missing
    if lag is None:
        return "lag unknown", f"{metric}: {reading.describe()}"
    text = f"lag {lag:.1f}s (limit {ctx.max_lag_seconds:.0f}s)"
    return text, (text if lag > ctx.max_lag_seconds else None)


def _primary_region_of(ctx: StatusContext) -> str | None:
    """The SourceRegion of the global database's lag metric (the primary's region)."""
    region = ctx.outputs.optional(ctx.dr_stack, "primary_region")
    if not region and ctx.outputs.has(ctx.primary_stack):
        region = ctx.outputs.optional(ctx.primary_stack, "region")
    return str(region) if region else None


def check_aurora_secondary(ctx: StatusContext) -> list[CheckResult]:
    """rds.engine aurora-mysql: the DR cluster is a reader member of an available global
    cluster, and its AuroraGlobalDBReplicationLag is within the limit (all in DR)."""
    from drctl.failover.aurora import LAG_METRIC, AuroraLagReader

    cluster_id = ctx.outputs.get(ctx.dr_stack, "replica_cluster_id")
    global_id = ctx.outputs.get(ctx.dr_stack, "aurora_global_cluster_id")
    rds = ctx.client("rds", ctx.dr_region)
    described = rds.describe_global_clusters(GlobalClusterIdentifier=global_id)["GlobalClusters"][0]
    members = {
        str(m["DBClusterArn"]).rsplit(":", 1)[-1]: m for m in described["GlobalClusterMembers"]
    }
    problems = []
    if described.get("Status") != "available":
        problems.append(f"global cluster {global_id} status {described.get('Status')}")
    member = members.get(cluster_id)
    if member is None:
        problems.append(f"not a member of global cluster {global_id} (detached?)")
    elif member.get("IsWriter"):
        problems.append("it is the writer (failed over?)")
    reader = AuroraLagReader(
        ctx.client("cloudwatch", ctx.dr_region), cluster_id, source_region=_primary_region_of(ctx)
    )
    lag_text, lag_problem = _lag_problem(ctx, reader.reading(), LAG_METRIC)
    problems += [lag_problem] if lag_problem else []
    detail = f"{cluster_id}: secondary of {global_id}, {lag_text}"
    if problems:
        return [CheckResult("rds replica", FAIL, "; ".join([cluster_id, *problems]))]
    return [CheckResult("rds replica", OK, detail)]


def check_rds_replica(ctx: StatusContext) -> list[CheckResult]:
    from drctl.engines import AURORA_MYSQL, db_engine

    if db_engine(ctx.outputs.stack(ctx.dr_stack)) == AURORA_MYSQL:
        return check_aurora_secondary(ctx)
    replica_id = ctx.outputs.get(ctx.dr_stack, "replica_instance_id")
    rds = ctx.client("rds", ctx.dr_region)
    instance = rds.describe_db_instances(DBInstanceIdentifier=replica_id)["DBInstances"][0]
    problems = []
    if instance["DBInstanceStatus"] != "available":
        problems.append(f"status {instance['DBInstanceStatus']}")
    if not instance.get("ReadReplicaSourceDBInstanceIdentifier"):
        problems.append("not a read replica (promoted?)")
    reading = CloudWatchLagReader(ctx.client("cloudwatch", ctx.dr_region), replica_id).reading()
    lag_text, lag_problem = _lag_problem(ctx, reading, "ReplicaLag")
    problems += [lag_problem] if lag_problem else []
    detail = f"{replica_id}: {instance['DBInstanceStatus']}, {lag_text}"
    return [
        CheckResult(
            "rds replica",
            FAIL if problems else OK,
            "; ".join([replica_id, *problems]) if problems else detail,
        )
    ]


def _probe_key(table: dict[str, Any]) -> dict[str, Any]:
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    token = uuid.uuid4().hex
    values = {
        "S": {"S": f"drctl-probe-{token}"},
        "N": {"N": str(int(token[:12], 16))},
        "B": {"B": token.encode()},
    }
    return {k["AttributeName"]: values[types[k["AttributeName"]]] for k in table["KeySchema"]}


def check_dynamodb_table(ctx: StatusContext, table_name: str) -> CheckResult:
    label = f"dynamodb {table_name}"
    dr = ctx.client("dynamodb", ctx.dr_region)
    table = dr.describe_table(TableName=table_name)["Table"]
    problems = [] if table["TableStatus"] == "ACTIVE" else [f"table {table['TableStatus']}"]
    replicas = table.get("Replicas", [])
    if not replicas:
        problems.append("no global-table replicas")
    problems += [
        f"replica {r['RegionName']} {r.get('ReplicaStatus')}"
        for r in replicas
        if r.get("ReplicaStatus") != "ACTIVE"
    ]
    if problems:
        return CheckResult(label, FAIL, "; ".join(problems))
    # Sync probe (seed 000 §4.3): write in the primary region, read it back in DR.
    primary = ctx.client("dynamodb", ctx.primary_region)
    key = _probe_key(table)
    primary.put_item(TableName=table_name, Item={**key, "drctl_probe": {"S": "status"}})
    started = time.monotonic()
    seen = False
    try:
        while time.monotonic() - started <= ctx.probe_timeout_seconds:
            if "Item" in dr.get_item(TableName=table_name, Key=key):
                seen = True
                break
            time.sleep(0.5)
    finally:
        primary.delete_item(TableName=table_name, Key=key)
    if not seen:
        return CheckResult(
            label, FAIL, f"probe item not replicated within {ctx.probe_timeout_seconds:.0f}s"
        )
    return CheckResult(
        label,
        OK,
        f"ACTIVE, {len(replicas)} replica(s), probe synced in {time.monotonic() - started:.1f}s",
    )


def check_s3_bucket(ctx: StatusContext, role: str, bucket: str) -> CheckResult:
    label = f"s3 {role}"
    s3 = ctx.client("s3", ctx.dr_region)
    s3.head_bucket(Bucket=bucket)
    problems = []
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        problems.append("versioning not enabled")
    source = (ctx.outputs.optional(ctx.primary_stack, "bucket_names") or {}).get(role)
    if source is None:
        problems.append(f"no primary bucket for role '{role}' in {ctx.primary_stack}.bucket_names")
    else:
        try:
            rules = ctx.client("s3", ctx.primary_region).get_bucket_replication(Bucket=source)[
                "ReplicationConfiguration"
            ]["Rules"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ReplicationConfigurationNotFoundError":
                raise
            rules = []
        arn = f"arn:aws:s3:::{bucket}"
        if not any(
            r.get("Status") == "Enabled" and r["Destination"]["Bucket"] == arn for r in rules
        ):
            problems.append(f"no enabled replication rule {source} -> {bucket}")
    if problems:
        return CheckResult(label, FAIL, f"{bucket}: " + "; ".join(problems))
    key = f"drctl-probe/{uuid.uuid4().hex}.txt"
    body = b"DR Test"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    try:
        read = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    finally:
        s3.delete_object(Bucket=bucket, Key=key)
    if read != body:
        return CheckResult(label, FAIL, f"{bucket}: probe read back different bytes")
    return CheckResult(label, OK, f"{bucket}: versioned, replicated from {source}, probe ok")


def _image_id(tag: str) -> dict[str, str]:
    """image_tags holds an immutable tag or a sha256 digest (README "Images")."""
    return {"imageDigest": tag} if tag.startswith("sha256:") else {"imageTag": tag}


def _digest(ecr: Any, repository: str, tag: str) -> str | None:
    """The image's digest, or None when the repository has no such image."""
    try:
        found = ecr.describe_images(repositoryName=repository, imageIds=[_image_id(tag)])
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in (
            "ImageNotFoundException",
            "RepositoryNotFoundException",
        ):
            raise
        return None
    return str(found["imageDetails"][0]["imageDigest"])


def _compare_with_primary(
    ctx: StatusContext, pinned: dict[str, str], digests: dict[str, str]
) -> tuple[list[str], str]:
    """Best effort: the primary's digest for each pinned image. The primary region may
    be dark (that is when this matters least), so failing to ask is a note, not a failure."""
    try:
        ecr = ctx.client("ecr", ctx.primary_region)
        theirs = {repo: _digest(ecr, repo, pinned[repo]) for repo in digests}
    except Exception as exc:
        return [], f"{ctx.primary_stack} not compared ({explain_failure(exc)})"
    differ = [
        f"{repo}:{pinned[repo]}"
        for repo, digest in digests.items()
        if theirs[repo] is not None and theirs[repo] != digest
    ]
    problems = [f"digest differs from {ctx.primary_stack}: {', '.join(differ)}"] if differ else []
    return problems, f"digests match {ctx.primary_stack}"


def check_ecr(ctx: StatusContext) -> list[CheckResult]:
    """The repositories exist in the DR region, and hold the immutable tags the DR stack
    pins (`image_tags`): a failover scales up Deployments that pull exactly those."""
    expected = _names(ctx.outputs.get(ctx.primary_stack, "ecr_repository_names"))
    pinned = {
        str(k): str(v) for k, v in (ctx.outputs.optional(ctx.dr_stack, "image_tags") or {}).items()
    }
    ecr = ctx.client("ecr", ctx.dr_region)
    present = {
        r["repositoryName"]
        for page in ecr.get_paginator("describe_repositories").paginate()
        for r in page["repositories"]
    }
    missing = [name for name in expected if name not in present]
    digests: dict[str, str] = {}
    absent = []
    for repo, tag in sorted(pinned.items()):
        digest = _digest(ecr, repo, tag)
        if digest is None:
            absent.append(f"{repo}:{tag}")
        else:
            digests[repo] = digest
    problems = [f"missing: {', '.join(missing)}"] if missing else []
    if absent:
        problems.append(f"pinned image not in {ctx.dr_region}: {', '.join(absent)}")
    notes = [f"{len(expected) - len(missing)}/{len(expected)} repositories in {ctx.dr_region}"]
    notes.append(
        f"{len(digests)}/{len(pinned)} pinned images present"
        if pinned
        else "no image_tags pinned yet"
    )
    if digests:
        differ, note = _compare_with_primary(ctx, pinned, digests)
        problems += differ
        notes.append(note)
    return [CheckResult("ecr", FAIL if problems else OK, "; ".join([", ".join(notes), *problems]))]


def check_route53(ctx: StatusContext) -> list[CheckResult]:
    hc_id = ctx.outputs.get(ctx.dr_stack, "health_check_id")
    route53 = ctx.client("route53", ROUTE53_REGION)
    config = route53.get_health_check(HealthCheckId=hc_id)["HealthCheck"]["HealthCheckConfig"]
    healthy = observed_healthy_fraction(route53, hc_id)
    problems = []
    if config.get("Disabled"):
        problems.append("check is DISABLED (Route 53 treats it as healthy)")
    if config.get("Inverted"):
        problems.append("the primary's probe is INVERTED: a dead primary would look healthy")
    switch_id = ctx.outputs.optional(ctx.dr_stack, "failover_switch_id")
    if switch_id:
        switch = route53.get_health_check(HealthCheckId=switch_id)["HealthCheck"]
        if switch["HealthCheckConfig"].get("Inverted"):
            problems.append("failover switch is INVERTED: DNS is forced to the DR site")
    if healthy is None or healthy < 0.5:
        problems.append("primary observed unhealthy" if healthy is not None else "no observations")
    detail = f"{hc_id}: {0 if healthy is None else healthy:.0%} of checkers healthy"
    return [
        CheckResult(
            "route53 health check",
            FAIL if problems else OK,
            "; ".join([detail, *problems]) if problems else detail,
        )
    ]


def check_secret(ctx: StatusContext, arn: str) -> CheckResult:
    label = f"secret {arn.split(':')[-1]}"
    secrets = ctx.client("secretsmanager", ctx.primary_region)
    status = secrets.describe_secret(SecretId=arn).get("ReplicationStatus", [])
    in_dr = [s for s in status if s.get("Region") == ctx.dr_region]
    if not in_dr:
        return CheckResult(label, FAIL, f"not replicated to {ctx.dr_region}")
    if in_dr[0].get("Status") != "InSync":
        return CheckResult(
            label,
            FAIL,
            f"{ctx.dr_region}: {in_dr[0].get('Status')} "
            f"{in_dr[0].get('StatusMessage', '')}".rstrip(),
        )
    return CheckResult(label, OK, f"InSync in {ctx.dr_region}")


# --- running them ----------------------------------------------------------------

Check = Callable[[StatusContext], list[CheckResult]]


def _per_item(
    label: str,
    items: Callable[[StatusContext], Iterable[Any]],
    run: Callable[[StatusContext, Any], CheckResult],
) -> list[tuple[str, Check]]:
    """Expand a per-item check lazily: listing the items may itself fail."""

    def expand(ctx: StatusContext) -> list[CheckResult]:
        results = []
        for item in items(ctx):
            try:
                results.append(run(ctx, item))
            except Exception as exc:
                results.append(CheckResult(f"{label} {item}", ERROR, explain_failure(exc)))
        return results

    return [(label, expand)]


def check_binlog_archive(ctx: StatusContext) -> list[CheckResult]:
    """Gaps a kept dump's replay would cross (drctl.binlog.status_check); none: skip."""
    from drctl.binlog.status_check import archive_gaps
    from drctl.pilotlight.storage import open_container, resolve_container

    if not ctx.outputs.has(PILOT_STACK):
        return []
    container = open_container(*resolve_container(container=None, outputs=ctx.outputs))
    gaps = archive_gaps(container)
    if not gaps:
        return [CheckResult("binlog archive", OK, "no gap a kept dump needs")]
    status = FAIL if any(not gap.end for gap in gaps) else OK
    return [CheckResult("binlog archive", status, "; ".join(gap.describe() for gap in gaps))]


def all_checks() -> list[tuple[str, Check]]:
    return [
        ("eks cluster", check_eks),
        ("eks nodes/pods", check_kubernetes),
        ("rds replica", check_rds_replica),
        *_per_item(
            "dynamodb",
            lambda c: _names(c.outputs.get(c.dr_stack, "dynamodb_table_names")),
            check_dynamodb_table,
        ),
        *_per_item(
            "s3",
            lambda c: sorted(c.outputs.get(c.dr_stack, "dr_bucket_names").items()),
            lambda c, item: check_s3_bucket(c, item[0], item[1]),
        ),
        ("ecr", check_ecr),
        ("route53 health check", check_route53),
        *_per_item(
            "secrets", lambda c: _names(c.outputs.get(c.primary_stack, "secret_arns")), check_secret
        ),
        ("binlog archive", check_binlog_archive),
    ]


def run_checks(
    ctx: StatusContext, checks: list[tuple[str, Check]] | None = None, workers: int = 8
) -> list[CheckResult]:
    checks = checks if checks is not None else all_checks()

    def guarded(entry: tuple[str, Check]) -> list[CheckResult]:
        label, check = entry
        try:
            return check(ctx) or [CheckResult(label, SKIP, "nothing to check")]
        except Exception as exc:  # a check must never take the run down
            return [CheckResult(label, ERROR, explain_failure(exc))]

    pool = ThreadPoolExecutor(max_workers=workers)
    futures = [pool.submit(guarded, entry) for entry in checks]
    active = deadline.active()
    # Each attempt's timeouts are capped at the deadline, so every check ends soon after
    # it; the grace lets an attempt in flight at the deadline report its endpoint.
    grace = None if active is None else max(active.remaining(), 0) + DEADLINE_GRACE_SECONDS
    wait(futures, timeout=grace)
    pool.shutdown(wait=False, cancel_futures=True)
    # Declared order, so the table reads like the §8 checklist.
    return [
        result
        for (label, _), future in zip(checks, futures, strict=True)
        for result in _result_or_gave_up(label, future, active)
    ]


def _result_or_gave_up(
    label: str, future: Future[list[CheckResult]], active: deadline.Deadline | None
) -> list[CheckResult]:
    if future.done() and not future.cancelled():
        return future.result()
    limit = f" within --timeout {active.seconds:g}s" if active is not None else ""
    return [CheckResult(label, ERROR, f"gave up: the check did not finish{limit}")]


def exit_code(results: list[CheckResult]) -> int:
    return 1 if any(r.status in (FAIL, ERROR) for r in results) else 0
