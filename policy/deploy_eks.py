"""Deploy-time constraints of the EKS region: what AWS (or the cluster) refuses or
silently never does at `pulumi up`, caught at preview.

* An HTTPS probe needs TLS on the endpoint it probes: a 443 listener that forwards
  plain TCP never completes a handshake, so the probe fails forever and DNS fails over.
* A Service annotated ``aws-load-balancer-type: external`` gets a load balancer only
  from the AWS Load Balancer Controller; without it the Service stays <pending>.
* Images are pinned: ``:latest`` (or no tag) moves, and replication may or may not have
  carried the newest push, so Seoul and Tokyo could run different builds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from policy.common import (
    T_HEALTH_CHECK,
    _get,
    _items,
    _of,
    _primary_outputs,
    _resource_policy,
    _stack_policy,
    current_context,
)

T_SERVICE = "kubernetes:core/v1:Service"
T_HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
T_ECR_REPOSITORY = "aws:ecr/repository:Repository"
T_ECR_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
WORKLOAD_TYPES = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
)
T_CRON_JOB = "kubernetes:batch/v1:CronJob"
T_JOB = "kubernetes:batch/v1:Job"
LB_CONTROLLER_CHART = "aws-load-balancer-controller"
_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-"
_CONTROLLER_CLASSES = ("service.k8s.aws/nlb",)
_PINNED = re.compile(r"(@sha256:[0-9a-f]{64}$)|(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$)")

LBC_ANNOTATIONS_DOC = "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/"
R53_HTTPS_DOC = (
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/"
    "dns-failover-determining-health-of-endpoints.html"
)
LBC_INSTALL_DOC = "https://docs.aws.amazon.com/eks/latest/userguide/lbc-helm.html"
ECR_IMMUTABLE_DOC = (
    "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html"
)


def _annotations(service: Any) -> dict[str, Any]:
    value = _get(service.props, "metadata", "annotations")
    return dict(value) if isinstance(value, Mapping) else {}


def _is_load_balancer(service: Any) -> bool:
    return _get(service.props, "spec", "type") == "LoadBalancer"


def _ports(service: Any) -> list[int]:
    return [int(p["port"]) for p in _items(_get(service.props, "spec", "ports")) if "port" in p]


def _https_without_tls(service: Any) -> bool:
    """A 443 listener with no certificate: the NLB forwards it as plain TCP."""
    annotations = _annotations(service)
    if 443 not in _ports(service) or not _is_load_balancer(service):
        return False
    if not annotations.get(f"{_ANNOTATION}ssl-cert"):
        return True
    ssl_ports = str(annotations.get(f"{_ANNOTATION}ssl-ports", "*"))
    listed = {p.strip() for p in ssl_ports.split(",")}
    return not ({"*", "443", "https"} & listed)


def _https_probe_needs_tls(args: StackValidationArgs, report: ReportViolation) -> None:
    for service in _of(args.resources, T_SERVICE):
        if _https_without_tls(service):
            report(
                f"Service {service.name} listens on 443 without a TLS certificate "
                f"({_ANNOTATION}ssl-cert): an HTTPS client or probe can never connect",
                service.urn,
            )
    probes = [hc for hc in _of(args.resources, T_HEALTH_CHECK) if hc.props.get("type") == "HTTPS"]
    if not probes:
        return
    outputs = _primary_outputs(args, current_context(args))
    if "app_tls" in outputs and outputs.get("app_tls") is not True:
        for probe in probes:
            report(
                f"health check {probe.name} probes the primary over HTTPS, but the primary "
                "stack exports app_tls = false: its load balancer serves no TLS",
                probe.urn,
            )


def _is_controller_service(service: Any) -> bool:
    annotations = _annotations(service)
    kind = annotations.get(f"{_ANNOTATION}type")
    return _is_load_balancer(service) and (
        kind in ("external", "nlb-ip")
        or _get(service.props, "spec", "loadBalancerClass") in _CONTROLLER_CLASSES
    )


def _external_lb_needs_controller(args: StackValidationArgs, report: ReportViolation) -> None:
    releases = [
        r
        for r in _of(args.resources, T_HELM_RELEASE)
        if r.props.get("chart") == LB_CONTROLLER_CHART
    ]
    release_urns = {r.urn for r in releases}
    for service in _of(args.resources, T_SERVICE):
        if not _is_controller_service(service):
            continue
        if not releases:
            report(
                f"Service {service.name} is an `external` load balancer Service but the stack "
                "installs no AWS Load Balancer Controller: it would stay <pending> forever",
                service.urn,
            )
        elif not release_urns & {d.urn for d in service.dependencies}:
            report(
                f"Service {service.name} does not depend on the AWS Load Balancer Controller "
                "release: it can be created before the controller's webhook answers, and "
                "destroyed after the controller, leaving its load balancer behind",
                service.urn,
            )


def _containers(args: ResourceValidationArgs) -> list[Any]:
    spec = _get(args.props, "spec", "template", "spec")
    if args.resource_type == T_CRON_JOB:
        spec = _get(args.props, "spec", "jobTemplate", "spec", "template", "spec")
    if not isinstance(spec, Mapping):
        return []
    return [*_items(spec.get("containers")), *_items(spec.get("initContainers"))]


def _pinned_workload_images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in _containers(args):
        image = container.get("image")
        if not isinstance(image, str):
            continue  # unknown until apply
        last = image.rsplit("/", 1)[-1]
        if not _PINNED.search(last) or last.endswith(":latest"):
            report(
                f"{args.name} runs image {image!r}: pin an immutable tag or a sha256 digest "
                "(never :latest or no tag), so both regions run the same build",
                None,
            )


def _immutable_repositories(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == T_ECR_TEMPLATE and "REPLICATION" not in (
        args.props.get("appliedFors") or []
    ):
        return
    if args.props.get("imageTagMutability") != "IMMUTABLE":
        report(
            f"ECR {args.name} lets tags be overwritten (imageTagMutability "
            f"{args.props.get('imageTagMutability') or 'MUTABLE (default)'}): a pinned tag "
            "could then name different builds in Seoul and Tokyo",
            None,
        )


_DB_WIRING = ("DB_HOST", "DB_SECRET_ARN")


def _app_database_wired(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in _containers(args):
        for env in _items(container.get("env")):
            if env.get("name") in _DB_WIRING and env.get("value") == "":
                report(
                    f"{args.name} sets {env['name']} to an empty string: every write would "
                    "fail while the process still looks up",
                    None,
                )


POLICIES = [
    _stack_policy(
        "https-probe-needs-tls",
        "An HTTPS health check or listener needs TLS on its endpoint: a 443 listener that "
        f"forwards plain TCP never completes a handshake ({R53_HTTPS_DOC}; {LBC_ANNOTATIONS_DOC}#ssl-cert)",
        _https_probe_needs_tls,
        "Set app.domain (+ app.zone) or app.certificate_arn so the load balancer terminates TLS",
    ),
    _stack_policy(
        "external-lb-needs-controller",
        "A Service of aws-load-balancer-type `external` is acted on only by the AWS Load "
        f"Balancer Controller, which the stack must install and the Service depend on ({LBC_INSTALL_DOC})",
        _external_lb_needs_controller,
        "Install the controller (EksRegion does, as a Helm release) and make the Service depend on it",
    ),
    _resource_policy(
        "pinned-images",
        "Workload and job images are pinned by immutable tag or digest, never :latest "
        "(checkov CKV_K8S_14/43): https://kubernetes.io/docs/concepts/containers/images/#image-names",
        (*WORKLOAD_TYPES, T_CRON_JOB, T_JOB),
        _pinned_workload_images,
        "Set image_tags.<repository>, app.image or backup.image to an immutable tag or "
        "sha256 digest",
    ),
    _resource_policy(
        "app-database-wired",
        "A workload that declares DB_HOST/DB_SECRET_ARN gets real values: an empty host or "
        "secret ARN makes every write fail at runtime, which no deploy step notices "
        "(https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets.html)",
        WORKLOAD_TYPES,
        _app_database_wired,
        "Wire the database address and this region's copy of the app's own login secret "
        "(RdsReplica.address, the app_secret_arn / app_secret_replica_arns outputs) into "
        "EksRegion.deploy_workloads",
    ),
    _resource_policy(
        "immutable-image-tags",
        f"ECR repositories and replication-created repositories have immutable tags (CKV_AWS_51; {ECR_IMMUTABLE_DOC})",
        (T_ECR_REPOSITORY, T_ECR_TEMPLATE),
        _immutable_repositories,
        "image_tag_mutability=IMMUTABLE on the repository and the REPLICATION creation template",
    ),
]
