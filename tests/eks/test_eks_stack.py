"""The EKS region under mocks: controller, TLS, workloads, images, cluster endpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drctl.mocks import _short_hash
from drctl.synth import PROJECT_DIR, synthesize
from stacks.config import ConfigError

from .conftest import APP_TAG, PUBLISHED, app_env, by_name, synth

SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RELEASE = "kubernetes:helm.sh/v3:Release"
LB = "service.beta.kubernetes.io/aws-load-balancer-"


# --------------------------------------------------------------------- item 2: controller


@pytest.mark.parametrize("stack", ["seoul", "tokyo"])
def test_load_balancer_controller_is_installed_with_pod_identity(stack: str) -> None:
    s = synth(stack)
    release = s.one(RELEASE, "lbc")
    assert release.inputs["chart"] == "aws-load-balancer-controller"
    assert release.inputs["version"] == "1.14.1"
    assert release.inputs["namespace"] == "kube-system"
    values = release.inputs["values"]
    assert values["clusterName"] == s.outputs["eks_cluster_name"]
    assert values["serviceAccount"] == {"create": True, "name": "aws-load-balancer-controller"}
    association = s.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "lbc")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "kube-system",
        "aws-load-balancer-controller",
    )
    role = s.one("aws:iam/role:Role", "lbc-role")
    assert role.urn in association.depends_on  # roleArn comes from this role
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
    # The release waits for its identity; the app Service waits for the release.
    assert association.urn in release.depends_on
    assert release.urn in s.one(SERVICE, "app-svc").depends_on


def test_target_group_health_check_is_http_on_health() -> None:
    annotations = synth("seoul").one(SERVICE, "app-svc").inputs["metadata"]["annotations"]
    assert annotations[f"{LB}type"] == "external"
    assert annotations[f"{LB}healthcheck-protocol"] == "http"
    assert annotations[f"{LB}healthcheck-path"] == "/health"


# --------------------------------------------------------------------- item 3: TLS


@pytest.mark.parametrize("stack", ["seoul", "tokyo"])
def test_tls_by_default_with_a_dns_validated_certificate(stack: str) -> None:
    s = synth(stack)
    cert = s.one("aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == "api.portforge.org"
    assert cert.inputs["validationMethod"] == "DNS"
    record = s.one("aws:route53/record:Record", "cert-validation")
    # ACM's CNAME for the name; both regions' certificates share it, hence allowOverwrite.
    assert record.inputs["type"] == "CNAME" and record.inputs["allowOverwrite"] is True
    assert record.inputs["name"].startswith("_") and record.inputs["name"].endswith(
        ".api.portforge.org."
    )
    assert cert.urn in record.depends_on
    issued = s.one("aws:acm/certificateValidation:CertificateValidation")
    assert issued.inputs["validationRecordFqdns"] == [record.inputs["name"]]
    assert issued.inputs["certificateArn"].startswith(f"arn:aws:acm:{s.outputs['region']}:")
    service = s.one(SERVICE, "app-svc")
    annotations = service.inputs["metadata"]["annotations"]
    assert annotations[f"{LB}ssl-cert"] == issued.inputs["certificateArn"]
    assert annotations[f"{LB}ssl-ports"] == "443"
    assert [p["port"] for p in service.inputs["spec"]["ports"]] == [443]
    assert s.outputs["app_url"].startswith("https://") and s.outputs["app_tls"] is True


def test_without_tls_there_is_no_443_listener() -> None:
    s = synth("seoul", "app.domain=", "app.zone=")
    service = s.one(SERVICE, "app-svc")
    assert [p["port"] for p in service.inputs["spec"]["ports"]] == [80]
    assert f"{LB}ssl-cert" not in service.inputs["metadata"]["annotations"]
    assert s.outputs["app_url"].startswith("http://") and s.outputs["app_tls"] is False
    assert not s.of_type("aws:acm/certificate:Certificate")


def test_config_refuses_an_https_probed_site_without_tls() -> None:
    with pytest.raises(
        ConfigError, match=r"app\.domain is missing: dns\.health_check probes HTTPS"
    ):
        synthesize("tokyo", ("app.domain=", "app.zone="))


def test_config_refuses_a_domain_outside_its_zone() -> None:
    with pytest.raises(ConfigError, match=r"app\.zone = .example\.com. is invalid"):
        synthesize("seoul", ("app.zone=example.com",))


# --------------------------------------------------------------------- item 4: database


def test_seoul_app_uses_the_primary_database_and_its_own_secret() -> None:
    s = synth("seoul", *PUBLISHED)
    env = app_env(s)
    assert env["DB_HOST"] == s.outputs["rds_address"]
    # The app's own login, never the master credential (DESIGN: the app is not the master user).
    assert env["DB_SECRET_ARN"] == s.outputs["app_secret_arn"] != s.outputs["rds_master_secret_arn"]
    assert "DB_PASSWORD" not in env
    policy = json.loads(s.one("aws:iam/rolePolicy:RolePolicy", "app-secret-read").inputs["policy"])
    read, decrypt = policy["Statement"]
    assert read == {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": s.outputs["app_secret_arn"],
    }
    assert decrypt["Condition"]["StringEquals"] == {
        "kms:ViaService": "secretsmanager.ap-northeast-2.amazonaws.com",
        "kms:EncryptionContext:SecretARN": s.outputs["app_secret_arn"],
    }
    deployment = s.one(DEPLOYMENT, "drstack-app")
    association = s.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "app-identity")
    assert deployment.inputs["spec"]["template"]["spec"]["serviceAccountName"] == "drstack-app"
    assert association.inputs["serviceAccount"] == "drstack-app"
    assert association.urn in deployment.depends_on


def test_tokyo_app_uses_the_replica_endpoint() -> None:
    s = synth("tokyo", *PUBLISHED)
    replica = s.one("aws:rds/instance:Instance")
    env = app_env(s)
    # The replica keeps this endpoint when promoted: the app writes there after failover.
    # (The mocks give an instance the address RDS would: <identifier>.c<id>.<region>.rds...)
    ident, region = replica.inputs["identifier"], "ap-northeast-1"
    assert env["DB_HOST"] == f"{ident}.c{_short_hash(region, length=10)}.{region}.rds.amazonaws.com"
    assert replica.inputs["replicateSourceDb"].startswith("arn:aws:rds:ap-northeast-2:")
    assert env["DRSTACK_REGION"] == "ap-northeast-1" == s.outputs["region"]


def test_tokyo_app_reads_the_secret_replica_in_tokyo() -> None:
    env = app_env(synth("tokyo", *PUBLISHED))
    assert env["DB_SECRET_ARN"].startswith("arn:aws:secretsmanager:ap-northeast-1:")


# --------------------------------------------------------------------- item 5: images


def test_empty_account_deploys_no_workload_without_a_published_image() -> None:
    for stack in ("seoul", "tokyo"):
        s = synth(stack)
        assert not s.of_type(DEPLOYMENT)
        # The load balancer exists from the first `up`: the DNS records need its name.
        assert s.one(SERVICE, "app-svc")
    assert synth("seoul").outputs["deployments"] == {}


@pytest.mark.parametrize("stack,region", [("seoul", "ap-northeast-2"), ("tokyo", "ap-northeast-1")])
def test_workloads_pull_pinned_images_from_their_own_region(stack: str, region: str) -> None:
    s = synth(stack, *PUBLISHED)
    images = {
        d.name: d.inputs["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in s.of_type(DEPLOYMENT)
    }
    registry = f"123456789012.dkr.ecr.{region}.amazonaws.com"
    assert images[f"{'primary' if stack == 'seoul' else 'dr'}-drstack-app"] == (
        f"{registry}/drstack-app:{APP_TAG}"
    )
    assert images[f"{'primary' if stack == 'seoul' else 'dr'}-auth-deployment"] == (
        f"{registry}/auth-service:1.4.2"
    )
    assert len(images) == 6


def test_a_digest_pins_with_at_sign() -> None:
    digest = "sha256:" + "a" * 64
    s = synth("seoul", f"image_tags.drstack-app={digest}")
    image = s.one(DEPLOYMENT, "drstack-app").inputs["spec"]["template"]["spec"]["containers"][0]
    assert image["image"].endswith(f"/drstack-app@{digest}")


@pytest.mark.parametrize(
    "override,fragment",
    [
        ("image_tags.drstack-app=latest", "`latest` moves"),
        ("app.image=public.ecr.aws/drstack/app:latest", "`latest` moves"),
        ("app.image=public.ecr.aws/drstack/app", "a pinned image"),
        ("image_tags.drstack-app=bad tag", "an immutable image tag"),
    ],
)
def test_config_refuses_moving_or_untagged_images(override: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        synthesize("seoul", (override,))


def test_repositories_are_immutable_in_both_regions() -> None:
    for repo in synth("seoul").of_type("aws:ecr/repository:Repository"):
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    template = synth("tokyo").one("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    assert template.inputs["appliedFors"] == ["REPLICATION"]
    assert template.inputs["imageTagMutability"] == "IMMUTABLE"
    assert template.region == "ap-northeast-1"


# --------------------------------------------------------------------- item 13


@pytest.mark.parametrize("stack", ["seoul", "tokyo"])
def test_every_deployment_has_liveness_and_readiness_probes(stack: str) -> None:
    deployments = synth(stack, *PUBLISHED).of_type(DEPLOYMENT)
    assert deployments
    for deployment in deployments:
        for container in deployment.inputs["spec"]["template"]["spec"]["containers"]:
            assert container["livenessProbe"]["httpGet"]["path"] == "/health", deployment.name
            assert container["readinessProbe"]["httpGet"]["path"] == "/health", deployment.name


@pytest.mark.parametrize("stack", ["seoul", "tokyo"])
def test_shipped_version_is_in_standard_support(stack: str) -> None:
    assert synth(stack).one("aws:eks/cluster:Cluster").inputs["version"] == "1.35"


def test_api_endpoint_is_private_by_default() -> None:
    vpc = synth("seoul").one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False and vpc["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in vpc


def test_api_endpoint_opens_only_to_configured_cidrs() -> None:
    s = synth("seoul", 'eks.public_access_cidrs=["203.0.113.7/32"]')
    vpc = s.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.7/32"]


def test_config_refuses_an_api_open_to_the_internet() -> None:
    with pytest.raises(ConfigError, match="must not be open to the whole internet"):
        synthesize("seoul", ('eks.public_access_cidrs=["0.0.0.0/0"]',))


def test_records_by_name_helper_sees_every_service() -> None:
    services = by_name(synth("seoul", *PUBLISHED), SERVICE)
    assert {"primary-app-svc", "primary-auth-deployment-svc"} <= set(services)


def test_an_external_pinned_image_is_used_as_given() -> None:
    image = "registry.example.com/drstack/app@sha256:" + "b" * 64
    s = synth("seoul", f"app.image={image}")
    container = s.one(DEPLOYMENT, "drstack-app").inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == image


def test_config_refuses_two_sources_for_the_app_image() -> None:
    with pytest.raises(ConfigError, match=r"app\.image and image_tags\.drstack-app are both set"):
        synthesize(
            "seoul",
            ("app.image=registry.example.com/app:1.0.0", f"image_tags.drstack-app={APP_TAG}"),
        )


def test_a_dr_stack_refuses_to_probe_a_primary_without_tls(tmp_path: Path) -> None:
    # The primary's stack file without a certificate: its load balancer serves plain HTTP.
    for name in ("Pulumi.yaml", "Pulumi.tokyo.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    seoul = (PROJECT_DIR / "Pulumi.seoul.yaml").read_text(encoding="utf-8")
    plain = seoul.replace("    domain: api.portforge.org\n", "").replace(
        "    zone: portforge.org\n", ""
    )
    assert plain != seoul
    (tmp_path / "Pulumi.seoul.yaml").write_text(plain, encoding="utf-8")
    with pytest.raises(Exception, match=r"the primary stack seoul serves no TLS there"):
        synthesize("tokyo", (), tmp_path)
