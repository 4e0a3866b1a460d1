"""Bad cases of the EKS deploy-time constraints (policy/deploy_eks.py): one per policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from drctl.preview import primary_outputs
from policy.policies import evaluate
from tests.pilot_light.conftest import BACKUP_IMAGE
from tests.policy.conftest import caught, mutate, run_policies, synth, without

SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RELEASE = "kubernetes:helm.sh/v3:Release"
PUBLISHED = ("image_tags.drstack-app=2026.11.29-3f2a1c", "image_tags.auth-service=1.4.2")
_SSL_CERT = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"


def case_https_probe_needs_tls() -> None:
    s = synth("seoul")
    rs, _ = mutate(s, SERVICE, "app-svc", lambda i: i["metadata"]["annotations"].pop(_SSL_CERT))
    caught("https-probe-needs-tls", run_policies(s, rs), "listens on 443 without a TLS certificate")

    # The DR stack's HTTPS probe of a primary that serves no TLS.
    t = synth("tokyo")
    plain_primary = {**(primary_outputs(t) or {}), "app_tls": False}
    caught(
        "https-probe-needs-tls",
        evaluate(list(t.resources), t.config, plain_primary),
        "exports app_tls = false",
    )


def case_external_lb_needs_controller() -> None:
    s = synth("seoul")
    rs = without(s, lambda r: r.type == RELEASE)
    caught(
        "external-lb-needs-controller",
        run_policies(s, rs),
        "installs no AWS Load Balancer Controller",
    )
    release = s.one(RELEASE, "lbc")
    service = s.one(SERVICE, "app-svc")
    loose = replace(service, depends_on=[u for u in service.depends_on if u != release.urn])
    rs = [loose if r.urn == service.urn else r for r in s.resources]
    caught("external-lb-needs-controller", run_policies(s, rs), "does not depend on")


def _image(value: str) -> Callable[[dict[str, Any]], None]:
    def change(inputs: dict[str, Any]) -> None:
        inputs["spec"]["template"]["spec"]["containers"][0]["image"] = value

    return change


def case_pinned_images() -> None:
    s = synth("seoul", *PUBLISHED)
    for image, label in (
        ("123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-app:latest", ":latest"),
        ("123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-app", "no tag"),
    ):
        rs, _ = mutate(s, DEPLOYMENT, "drstack-app", _image(image))
        assert label
        caught("pinned-images", run_policies(s, rs), repr(image))
    # The backup CronJob (and any Job) is held to the same rule.
    b = synth("azure-pilot-backup", *BACKUP_IMAGE)
    latest = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-backup:latest"

    def cron_latest(inputs: dict[str, Any]) -> None:
        spec = inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        spec["containers"][0]["image"] = latest

    rs, bad = mutate(b, "kubernetes:batch/v1:CronJob", "", cron_latest)
    caught("pinned-images", run_policies(b, rs), bad.name, repr(latest))


def case_immutable_image_tags() -> None:
    s = synth("seoul")
    rs, _ = mutate(
        s,
        "aws:ecr/repository:Repository",
        "drstack-app",
        lambda i: i.update(imageTagMutability="MUTABLE"),
    )
    caught(
        "immutable-image-tags", run_policies(s, rs), "ECR ecr-drstack-app lets tags be overwritten"
    )
    t = synth("tokyo")
    rs, _ = mutate(
        t,
        "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
        "",
        lambda i: i.pop("imageTagMutability"),
    )
    caught("immutable-image-tags", run_policies(t, rs), "MUTABLE (default)")


def case_app_database_wired() -> None:
    s = synth("seoul", *PUBLISHED)

    def unwired(inputs: dict[str, Any]) -> None:
        for env in inputs["spec"]["template"]["spec"]["containers"][0]["env"]:
            if env["name"] == "DB_SECRET_ARN":
                env["value"] = ""

    rs, _ = mutate(s, DEPLOYMENT, "drstack-app", unwired)
    caught("app-database-wired", run_policies(s, rs), "sets DB_SECRET_ARN to an empty string")


CASES: dict[str, Callable[[], None]] = {
    "https-probe-needs-tls": case_https_probe_needs_tls,
    "external-lb-needs-controller": case_external_lb_needs_controller,
    "pinned-images": case_pinned_images,
    "immutable-image-tags": case_immutable_image_tags,
    "app-database-wired": case_app_database_wired,
}
