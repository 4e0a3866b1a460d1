"""The region's Kubernetes workloads: the app (with its database identity), the service
deployments and the app's load-balanced Service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.app_db_user import secret_read_policy
from components.iam import assume_role_policy

APP_NAME = "drstack-app"
APP_NAMESPACE = "default"
SERVICE_PORT = 8080
HEALTH_PATH = "/health"

_LB = "service.beta.kubernetes.io/aws-load-balancer-"


def container_probes(port: int) -> tuple[k8s.core.v1.ProbeArgs, k8s.core.v1.ProbeArgs]:
    """Liveness and readiness on /health (CKV_K8S_8/9). /health answers 200 while the
    process is up, so a read-only standby database does not restart or unready pods."""
    get = k8s.core.v1.HTTPGetActionArgs(path=HEALTH_PATH, port=port)
    liveness = k8s.core.v1.ProbeArgs(
        http_get=get, initial_delay_seconds=10, period_seconds=10, failure_threshold=3
    )
    return liveness, k8s.core.v1.ProbeArgs(http_get=get, period_seconds=5)


def deployment(
    name: str,
    deployment_name: str,
    image: pulumi.Input[str],
    replicas: int,
    port: int,
    env: Sequence[k8s.core.v1.EnvVarArgs],
    opts: pulumi.ResourceOptions,
    service_account: str | None = None,
) -> k8s.apps.v1.Deployment:
    labels = {"app": deployment_name}
    liveness, readiness = container_probes(port)
    return k8s.apps.v1.Deployment(
        f"{name}-{deployment_name}",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=deployment_name, labels=labels),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=replicas,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=service_account,
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name=deployment_name,
                            image=image,
                            # Pinned tags are immutable in ECR: pulling once is enough.
                            image_pull_policy="IfNotPresent",
                            ports=[k8s.core.v1.ContainerPortArgs(container_port=port)],
                            env=list(env),
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "100m", "memory": "128Mi"},
                                limits={"memory": "256Mi"},
                            ),
                            liveness_probe=liveness,
                            readiness_probe=readiness,
                        )
                    ],
                ),
            ),
        ),
        opts=opts,
    )


@dataclass(kw_only=True)
class AppIdentityArgs:
    provider: aws.Provider
    cluster_name: pulumi.Input[str]
    db_secret_arn: pulumi.Input[str]
    region: str
    tags: dict[str, str]


def app_identity(
    name: str, args: AppIdentityArgs, parent: pulumi.Resource, k8s_opts: pulumi.ResourceOptions
) -> list[pulumi.Resource]:
    """A service account whose pods may read exactly the app's own database secret (Pod
    Identity): never the master credential, which is for deploy-time and DR tooling."""
    aws_opts = pulumi.ResourceOptions(parent=parent, provider=args.provider)
    role = aws.iam.Role(
        f"{name}-app-role",
        assume_role_policy=assume_role_policy(
            "pods.eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")
        ),
        tags=args.tags,
        opts=aws_opts,
    )
    policy = aws.iam.RolePolicy(
        f"{name}-app-secret-read",
        role=role.id,
        policy=pulumi.Output.from_input(args.db_secret_arn).apply(
            lambda arn: secret_read_policy([arn], args.region)
        ),
        opts=aws_opts,
    )
    account = k8s.core.v1.ServiceAccount(
        f"{name}-app-sa",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=APP_NAME, namespace=APP_NAMESPACE),
        opts=k8s_opts,
    )
    association = aws.eks.PodIdentityAssociation(
        f"{name}-app-identity",
        cluster_name=args.cluster_name,
        namespace=APP_NAMESPACE,
        service_account=APP_NAME,
        role_arn=role.arn,
        tags=args.tags,
        opts=aws_opts,
    )
    # Pod Identity injects credentials when a pod starts: the association must exist first.
    return [policy, account, association]


def load_balancer_annotations(
    certificate_arn: pulumi.Input[str] | None,
) -> dict[str, pulumi.Input[str]]:
    """NLB through the AWS Load Balancer Controller. The target group health check is
    HTTP on /health (the default would be TCP, which passes while the app is broken)."""
    annotations: dict[str, pulumi.Input[str]] = {
        f"{_LB}type": "external",
        f"{_LB}nlb-target-type": "ip",
        f"{_LB}scheme": "internet-facing",
        f"{_LB}healthcheck-protocol": "http",
        f"{_LB}healthcheck-port": "traffic-port",
        f"{_LB}healthcheck-path": HEALTH_PATH,
    }
    if certificate_arn is not None:
        # TLS ends at the NLB (a TLS listener forwarding TCP to the pods): the Route 53
        # HTTPS probe and the clients complete a handshake with the ACM certificate.
        annotations[f"{_LB}ssl-cert"] = certificate_arn
        annotations[f"{_LB}ssl-ports"] = "443"
        annotations[f"{_LB}ssl-negotiation-policy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    return annotations


def app_service(
    name: str,
    port: int,
    certificate_arn: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Service:
    # One listener: 443 with TLS when there is a certificate, else plain 80. Never a
    # 443 that forwards plain TCP, which no HTTPS client or probe can talk to.
    listener = (
        k8s.core.v1.ServicePortArgs(name="https", port=443, target_port=port)
        if certificate_arn is not None
        else k8s.core.v1.ServicePortArgs(name="http", port=80, target_port=port)
    )
    return k8s.core.v1.Service(
        f"{name}-app-svc",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=APP_NAME,
            labels={"app": APP_NAME},
            annotations=load_balancer_annotations(certificate_arn),
        ),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="LoadBalancer", selector={"app": APP_NAME}, ports=[listener]
        ),
        opts=opts,
    )


def service_image(registry: pulumi.Input[str], repository: str, tag: str) -> pulumi.Output[str]:
    separator = "@" if tag.startswith("sha256:") else ":"
    return pulumi.Output.concat(registry, "/", repository, separator, tag)


def cluster_services(
    name: str,
    services: Mapping[str, int],
    images: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> dict[str, int]:
    """The service deployments whose images are pinned; returns what was deployed."""
    deployed = {}
    for deployment_name, replicas in services.items():
        if deployment_name not in images:
            continue
        deployment(name, deployment_name, images[deployment_name], replicas, SERVICE_PORT, [], opts)
        k8s.core.v1.Service(
            f"{name}-{deployment_name}-svc",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=deployment_name, labels={"app": deployment_name}
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector={"app": deployment_name},
                ports=[k8s.core.v1.ServicePortArgs(port=80, target_port=SERVICE_PORT)],
            ),
            opts=opts,
        )
        deployed[deployment_name] = replicas
    return deployed
