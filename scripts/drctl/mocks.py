"""Pulumi mocks that answer like the real providers would.

The mock runtime runs the real program against the real SDK classes; these mocks give
every resource the identifiers AWS and Azure would give it in its region (an RDS ARN is
``arn:aws:rds:<region>:<account>:db:<identifier>``), so cross-resource and cross-stack
wiring can be checked by value. Regions come from the explicit provider a resource was
registered with, which is exactly what the program controls.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc

MOCK_ACCOUNT = "123456789012"
MOCK_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
MOCK_HOSTED_ZONE_ID = "Z0MOCKZONE1234567890"


def _short_hash(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@dataclass
class ProviderRegistry:
    """Provider reference (``urn::id``) -> region or location, filled as providers register."""

    regions: dict[str, str] = field(default_factory=dict)
    default_region: str = "ap-northeast-2"

    def region_of(self, provider_ref: str | None, inputs: Mapping[str, Any]) -> str:
        if provider_ref and provider_ref in self.regions:
            return self.regions[provider_ref]
        for key in ("region", "location"):
            value = inputs.get(key)
            if isinstance(value, str) and value:
                return value
        return self.default_region


class DrstackMocks(pulumi.runtime.Mocks):
    def __init__(
        self,
        providers: ProviderRegistry,
        stack_outputs: Mapping[str, Mapping[str, Any]],
        account: str = MOCK_ACCOUNT,
    ) -> None:
        self.providers = providers
        self.stack_outputs = stack_outputs
        self.account = account

    # ------------------------------------------------------------------ resources

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if typ == "pulumi:pulumi:StackReference":
            ref = str(inputs.get("name", name))
            outputs = self.stack_outputs.get(ref.split("/")[-1])
            if outputs is None:
                raise ValueError(f"no outputs available for referenced stack {ref!r}")
            return ref, {"name": ref, "outputs": dict(outputs), "secretOutputNames": []}
        if typ.startswith("pulumi:providers:"):
            return f"{name}-provider-id", inputs
        region = self.providers.region_of(args.provider, inputs)
        if args.resource_id and typ == "aws:s3/bucketVersioning:BucketVersioning":
            # A read of the primary's bucket versioning: the primary stack declares it
            # Enabled on every bucket it owns, so that is what the read returns.
            return args.resource_id, {
                "bucket": args.resource_id,
                "versioningConfiguration": {"status": "Enabled"},
            }
        if typ == "random:index/randomPassword:RandomPassword":
            return self._random_password(name, inputs)
        if typ.startswith("aws:"):
            return self._aws(typ, name, inputs, region)
        if typ.startswith("azure-native:"):
            return self._azure(typ, name, inputs)
        if typ.startswith("kubernetes:"):
            return self._kubernetes(typ, name, inputs, args.provider)
        return f"{name}-id", inputs

    def _random_password(self, name: str, inputs: dict) -> tuple[str, dict]:
        # The real provider marks `result` secret; so does this mock, so a test sees a
        # plaintext password wherever the program would leak one. Deterministic per
        # name and keepers (a new keeper is a new password, as with the provider).
        length = int(inputs.get("length", 16))
        seed = _short_hash(name, repr(sorted((inputs.get("keepers") or {}).items())), length=64)
        value = ("Aa1!" + seed)[:length]
        secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": value}
        return f"{name}-id", {**inputs, "result": secret, "bcryptHash": secret}

    def _arn(self, service: str, region: str, resource: str, global_: bool = False) -> str:
        return f"arn:aws:{service}:{'' if global_ else region}:{self.account}:{resource}"

    def _aws(self, typ: str, name: str, inputs: dict, region: str) -> tuple[str, dict]:
        module = typ.split(":")[1].split("/")[0]
        kind = typ.rsplit(":", 1)[-1]
        physical = f"{name}-{_short_hash(typ, name, length=7)}"
        state = dict(inputs)
        build = _AWS_BY_TYPE.get(typ) or _AWS_BY_MODULE.get(module)
        if build is not None:
            rid = build(self, typ, name, inputs, region, physical, state)
        else:
            rid = physical
            state.setdefault("arn", self._arn(module, region, f"{kind.lower()}/{physical}"))
        state.setdefault("id", rid)
        state.setdefault("tagsAll", inputs.get("tags", {}))
        return rid, state

    # One builder per AWS type: its cloud-assigned id (returned) and computed attributes.
    def _aws_s3_bucket(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        bucket = inputs.get("bucket") or physical
        rid = bucket
        state.update(
            bucket=bucket,
            arn=f"arn:aws:s3:::{bucket}",
            region=region,
            bucketDomainName=f"{bucket}.s3.amazonaws.com",
            bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com",
        )
        return rid

    def _aws_rds_instance(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        ident = inputs.get("identifier") or physical
        rid = ident
        address = f"{ident}.c{_short_hash(region, length=10)}.{region}.rds.amazonaws.com"
        state.update(
            identifier=ident,
            arn=self._arn("rds", region, f"db:{ident}"),
            address=address,
            endpoint=f"{address}:3306",
            port=3306,
            resourceId=f"db-{_short_hash(ident, region, length=20).upper()}",
        )
        if inputs.get("manageMasterUserPassword"):
            state["masterUserSecrets"] = [
                {
                    "secretArn": self._arn(
                        "secretsmanager", region, f"secret:rds!db-{_short_hash(ident)}-AbCdEf"
                    ),
                    "secretStatus": "active",
                    "kmsKeyId": inputs.get("masterUserSecretKmsKeyId", ""),
                }
            ]
        return rid

    def _aws_rds_cluster(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        # The id of an Aurora cluster is its identifier; writer and reader endpoints differ.
        ident = inputs.get("clusterIdentifier") or physical
        suffix = f"c{_short_hash(region, length=10)}.{region}.rds.amazonaws.com"
        state.update(
            clusterIdentifier=ident,
            arn=self._arn("rds", region, f"cluster:{ident}"),
            endpoint=f"{ident}.cluster-{suffix}",
            readerEndpoint=f"{ident}.cluster-ro-{suffix}",
            port=3306,
            clusterResourceId=f"cluster-{_short_hash(ident, region, length=20).upper()}",
        )
        return str(ident)

    def _aws_rds_global_cluster(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        # A global cluster's ARN has no region.
        ident = inputs.get("globalClusterIdentifier") or physical
        state.update(
            globalClusterIdentifier=ident, arn=self._arn("rds", "", f"global-cluster:{ident}")
        )
        return str(ident)

    def _aws_kms_key(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        key_id = f"{_short_hash(name, region)}-{_short_hash(region, name, length=4)}-4abc-8def-{_short_hash(typ, name, length=12)}"
        rid = key_id
        state.update(keyId=key_id, arn=self._arn("kms", region, f"key/{key_id}"))
        return rid

    def _aws_kms_alias(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        rid = physical
        state.update(arn=self._arn("kms", region, inputs.get("name", name)))
        return rid

    def _aws_dynamodb_table(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        table = inputs.get("name") or physical
        rid = table
        arn = self._arn("dynamodb", region, f"table/{table}")
        state.update(name=table, arn=arn, streamArn=f"{arn}/stream/2026-11-21T00:00:00.000")
        return rid

    def _aws_dynamodb_table_replica(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        global_arn = str(inputs.get("globalTableArn", ""))
        table = global_arn.rsplit("/", 1)[-1]
        rid = f"{table}:{region}"
        state.update(arn=self._arn("dynamodb", region, f"table/{table}"))
        return rid

    def _aws_iam(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        kind = typ.rsplit(":", 1)[-1]
        iam_name = inputs.get("name") or physical
        path = {
            "Role": "role",
            "Policy": "policy",
            "User": "user",
            "InstanceProfile": "instance-profile",
        }
        rid = iam_name
        state.update(
            name=iam_name,
            arn=self._arn("iam", "", f"{path.get(kind, kind.lower())}/{iam_name}", global_=True),
        )
        return rid

    def _aws_eks_cluster(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        cluster = inputs.get("name") or physical
        rid = cluster
        state.update(
            name=cluster,
            arn=self._arn("eks", region, f"cluster/{cluster}"),
            endpoint=f"https://{_short_hash(cluster, region, length=32).upper()}.gr7.{region}.eks.amazonaws.com",
            certificateAuthority={
                "data": base64.b64encode(b"mock-ca-" + cluster.encode()).decode()
            },
            status="ACTIVE",
            version=inputs.get("version", "1.31"),
        )
        return rid

    def _aws_eks_node_group(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        rid = physical
        state.update(arn=self._arn("eks", region, f"nodegroup/{physical}"), status="ACTIVE")
        return rid

    def _aws_route53_health_check(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        rid = f"{_short_hash(name, length=8)}-{_short_hash(region, name, length=4)}-4{_short_hash(typ, length=3)}-a{_short_hash(name, typ, length=3)}-{_short_hash(name, region, typ, length=12)}"
        state.update(arn=f"arn:aws:route53:::healthcheck/{rid}")
        return rid

    def _aws_route53_record(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        rid = f"{MOCK_HOSTED_ZONE_ID}_{inputs.get('name')}_{inputs.get('type')}_{inputs.get('setIdentifier', '')}"
        state.update(fqdn=inputs.get("name"))
        return rid

    def _aws_lambda_function(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        fn = inputs.get("name") or physical
        rid = fn
        state.update(
            name=fn,
            arn=self._arn("lambda", region, f"function:{fn}"),
            invokeArn=f"arn:aws:apigateway:{region}:lambda:path/functions/{fn}",
        )
        return rid

    def _aws_sns_topic(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        topic = inputs.get("name") or physical
        arn = self._arn("sns", region, topic)
        rid = arn
        state.update(name=topic, arn=arn)
        return rid

    def _aws_sqs_queue(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        queue = inputs.get("name") or physical
        rid = f"https://sqs.{region}.amazonaws.com/{self.account}/{queue}"
        state.update(name=queue, arn=self._arn("sqs", region, queue), url=rid)
        return rid

    def _aws_secretsmanager_secret(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        secret = inputs.get("name") or physical
        arn = self._arn(
            "secretsmanager", region, f"secret:{secret}-{_short_hash(secret, length=6)}"
        )
        rid = arn
        state.update(name=secret, arn=arn)
        return rid

    def _aws_secretsmanager_secret_version(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        # Secrets Manager gives every new value a new version id: deterministic per value
        # here, so a changed secret (a rotation) shows as a changed version_id.
        version = _short_hash(name, repr(inputs.get("secretString")), length=32)
        state.update(versionId=version, arn=str(inputs.get("secretId", "")))
        return f"{inputs.get('secretId', name)}|{version}"

    def _aws_ecr_repository(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        repo = inputs.get("name") or physical
        rid = repo
        state.update(
            name=repo,
            arn=self._arn("ecr", region, f"repository/{repo}"),
            repositoryUrl=f"{self.account}.dkr.ecr.{region}.amazonaws.com/{repo}",
            registryId=self.account,
        )
        return rid

    def _aws_acm_certificate(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        domain = str(inputs.get("domainName", ""))
        arn = self._arn(
            "acm",
            region,
            f"certificate/{_short_hash(domain, region, length=8)}-4abc-8def-{_short_hash(name, region, length=12)}",
        )
        rid = arn
        # ACM's validation CNAME depends on the name and account, not the region.
        token = _short_hash(domain, self.account, length=32)
        state.update(
            arn=arn,
            status="PENDING_VALIDATION",
            domainValidationOptions=[
                {
                    "domainName": domain,
                    "resourceRecordName": f"_{token}.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{_short_hash(token, length=32)}.xlfgrmvvlj.acm-validations.aws.",
                }
            ],
        )
        return rid

    def _aws_acm_certificate_validation(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        rid = str(inputs.get("certificateArn", physical))
        return rid

    def _aws_eks_pod_identity_association(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        rid = f"a-{_short_hash(name, region, length=17)}"
        state.update(
            associationId=rid,
            associationArn=self._arn(
                "eks", region, f"podidentityassociation/{inputs.get('clusterName')}/{rid}"
            ),
        )
        return rid

    def _aws_cloudwatch_metric_alarm(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        rid = physical
        alarm = inputs.get("name") or physical
        state.update(arn=self._arn("cloudwatch", region, f"alarm:{alarm}"))
        return rid

    def _aws_ec2(
        self, typ: str, name: str, inputs: dict, region: str, physical: str, state: dict
    ) -> str:
        kind = typ.rsplit(":", 1)[-1]
        prefix = {
            "Vpc": "vpc",
            "Subnet": "subnet",
            "InternetGateway": "igw",
            "NatGateway": "nat",
            "Eip": "eipalloc",
            "RouteTable": "rtb",
            "SecurityGroup": "sg",
            "Route": "r",
            "RouteTableAssociation": "rtbassoc",
            "Instance": "i",
        }.get(kind, kind.lower())
        rid = f"{prefix}-{_short_hash(name, region, length=17)}"
        state.update(arn=self._arn("ec2", region, f"{kind.lower()}/{rid}"))
        if kind == "Eip":
            state.update(
                publicIp="203.0.113." + str(int(_short_hash(name, length=2), 16) % 250 + 1)
            )
        return rid

    def _azure(self, typ: str, name: str, inputs: dict) -> tuple[str, dict]:
        provider_ns = {
            "resources": "Microsoft.Resources",
            "network": "Microsoft.Network",
            "storage": "Microsoft.Storage",
            "compute": "Microsoft.Compute",
            "dbformysql": "Microsoft.DBforMySQL",
            "insights": "Microsoft.Insights",
            "keyvault": "Microsoft.KeyVault",
            "managedidentity": "Microsoft.ManagedIdentity",
        }
        module = typ.split(":")[1]
        kind = typ.rsplit(":", 1)[-1]
        # Each azure-native resource names itself through its own "<kind>Name" input.
        own_key = kind[0].lower() + kind[1:] + "Name"
        # A few types use a shorter key (storage accounts, containers, MySQL, VMs).
        short_key = {
            "StorageAccount": "accountName",
            "BlobContainer": "containerName",
            "Server": "serverName",
            "Database": "databaseName",
            "VirtualMachine": "vmName",
        }.get(kind, own_key)
        res_name = (
            inputs.get(own_key)
            or inputs.get(short_key)
            or inputs.get("name")
            or f"{name}{_short_hash(typ, name, length=6)}"
        )
        rg = inputs.get("resourceGroupName", res_name if kind == "ResourceGroup" else "rg")
        if kind == "ResourceGroup":
            rid = f"/subscriptions/{MOCK_SUBSCRIPTION}/resourceGroups/{res_name}"
        else:
            rid = f"/subscriptions/{MOCK_SUBSCRIPTION}/resourceGroups/{rg}/providers/{provider_ns.get(module, module)}/{kind[0].lower() + kind[1:]}s/{res_name}"
        state = dict(inputs, name=res_name)
        if kind == "PublicIPAddress":
            state["ipAddress"] = "20.41.0." + str(int(_short_hash(name, length=2), 16) % 250 + 1)
        if kind == "Server" and module == "dbformysql":
            state["fullyQualifiedDomainName"] = f"{res_name}.mysql.database.azure.com"
        identity = inputs.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # ARM takes a list of identity IDs and returns a map keyed by them.
            ids = identity["userAssignedIdentities"]
            state["identity"] = {**identity, "userAssignedIdentities": {i: {} for i in ids}}
        if kind == "UserAssignedIdentity":
            digest = _short_hash(typ, name, length=32)
            state["principalId"] = str(uuid.UUID(digest))
            state["clientId"] = str(uuid.UUID(digest[::-1]))
        if kind == "StorageAccount":
            state["primaryEndpoints"] = {
                "blob": f"https://{res_name}.blob.core.windows.net/",
                "web": f"https://{res_name}.z12.web.core.windows.net/",
            }
        return rid, state

    def _kubernetes(
        self, typ: str, name: str, inputs: dict, provider: str | None
    ) -> tuple[str, dict]:
        meta = inputs.get("metadata") or {}
        obj_name = meta.get("name") or name
        namespace = meta.get("namespace", "default")
        state = dict(inputs)
        if (
            typ == "kubernetes:core/v1:Service"
            and (inputs.get("spec") or {}).get("type") == "LoadBalancer"
        ):
            region = self.providers.regions.get(provider or "", "ap-northeast-2")
            host = f"a{_short_hash(obj_name, region, length=31)}-{int(_short_hash(region, obj_name, length=6), 16)}.{region}.elb.amazonaws.com"
            state["status"] = {"loadBalancer": {"ingress": [{"hostname": host}]}}
        if typ == "kubernetes:helm.sh/v3:Release":
            release = inputs.get("name") or name
            namespace = inputs.get("namespace") or "default"
            state["status"] = {
                "name": release,
                "namespace": namespace,
                "chart": inputs.get("chart", ""),
                "version": inputs.get("version", ""),
                "status": "deployed",
                "revision": 1,
            }
            return f"{namespace}/{release}", state
        return f"{namespace}/{obj_name}", state

    # ------------------------------------------------------------------ invokes

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:  # type: ignore[override]
        token = args.token
        region = self.providers.region_of(args.provider, args.args)
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{z}" for z in ("a", "b", "c")]
            return {
                "names": names,
                "zoneIds": [f"{region[:2]}{region[-1]}-az{i}" for i in (1, 2, 3)],
                "id": region,
            }
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account,
                "arn": f"arn:aws:iam::{self.account}:user/mock",
                "userId": "AIDAMOCK",
                "id": self.account,
            }
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if token == "aws:route53/getZone:getZone":
            zone = str(args.args.get("name", "")).rstrip(".")
            return {
                "zoneId": MOCK_HOSTED_ZONE_ID,
                "name": zone,
                "id": MOCK_HOSTED_ZONE_ID,
                "arn": f"arn:aws:route53:::hostedzone/{MOCK_HOSTED_ZONE_ID}",
            }
        if token.startswith("azure-native:storage:listStorageAccountKeys"):
            return {
                "keys": [
                    {"keyName": "key1", "value": "bW9jay1zdG9yYWdlLWtleQ==", "permissions": "FULL"}
                ]
            }
        if token.startswith("azure-native:storage:listStorageAccountServiceSAS"):
            # The shape of a real service SAS: scope, permissions and expiry are visible.
            a = args.args
            return {
                "serviceSasToken": (
                    f"sv=2022-11-02&sr={a.get('resource', '')}&sp={a.get('permissions', '')}"
                    f"&se={a.get('sharedAccessExpiryTime', '')}&spr={a.get('protocols', '')}"
                    "&sig=bW9jay1zaWduYXR1cmU%3D"
                )
            }
        if token.startswith("azure-native:authorization:getClientConfig"):
            return {
                "subscriptionId": MOCK_SUBSCRIPTION,
                "tenantId": MOCK_SUBSCRIPTION,
                "clientId": "mock",
                "objectId": "mock",
            }
        return {}


_REGION_FLAG = re.compile(r"--region[\"',\s]+([a-z]{2}-[a-z]+-\d)")


def region_from_kubeconfig(kubeconfig: Any) -> str | None:
    """Kubernetes providers carry their region only inside the kubeconfig's exec args."""
    match = _REGION_FLAG.search(str(kubeconfig))
    return match.group(1) if match else None


_AwsBuilder = Callable[[DrstackMocks, str, str, dict, str, str, dict], str]
_AWS_BY_TYPE: dict[str, _AwsBuilder] = {
    "aws:s3/bucket:Bucket": DrstackMocks._aws_s3_bucket,
    "aws:rds/instance:Instance": DrstackMocks._aws_rds_instance,
    "aws:rds/cluster:Cluster": DrstackMocks._aws_rds_cluster,
    "aws:rds/globalCluster:GlobalCluster": DrstackMocks._aws_rds_global_cluster,
    "aws:kms/key:Key": DrstackMocks._aws_kms_key,
    "aws:kms/alias:Alias": DrstackMocks._aws_kms_alias,
    "aws:dynamodb/table:Table": DrstackMocks._aws_dynamodb_table,
    "aws:dynamodb/tableReplica:TableReplica": DrstackMocks._aws_dynamodb_table_replica,
    "aws:eks/cluster:Cluster": DrstackMocks._aws_eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": DrstackMocks._aws_eks_node_group,
    "aws:route53/healthCheck:HealthCheck": DrstackMocks._aws_route53_health_check,
    "aws:route53/record:Record": DrstackMocks._aws_route53_record,
    "aws:lambda/function:Function": DrstackMocks._aws_lambda_function,
    "aws:sns/topic:Topic": DrstackMocks._aws_sns_topic,
    "aws:sqs/queue:Queue": DrstackMocks._aws_sqs_queue,
    "aws:secretsmanager/secret:Secret": DrstackMocks._aws_secretsmanager_secret,
    "aws:secretsmanager/secretVersion:SecretVersion": (
        DrstackMocks._aws_secretsmanager_secret_version
    ),
    "aws:ecr/repository:Repository": DrstackMocks._aws_ecr_repository,
    "aws:acm/certificate:Certificate": DrstackMocks._aws_acm_certificate,
    "aws:acm/certificateValidation:CertificateValidation": DrstackMocks._aws_acm_certificate_validation,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": DrstackMocks._aws_eks_pod_identity_association,
    "aws:cloudwatch/metricAlarm:MetricAlarm": DrstackMocks._aws_cloudwatch_metric_alarm,
}
_AWS_BY_MODULE: dict[str, _AwsBuilder] = {
    "iam": DrstackMocks._aws_iam,
    "ec2": DrstackMocks._aws_ec2,
}
