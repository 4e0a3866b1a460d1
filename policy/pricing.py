"""Monthly cost estimate of a synthesized stack, from a dated on-demand price table.

``estimate(synthesis)`` prices every resource the program declares (itemised, per
stack); ``drctl cost`` uses it to rebuild seed 001's Plan A vs Plan B table from the
shipped stacks instead of by hand.

Prices are on-demand list prices in USD for the regions drstack uses (AWS
ap-northeast-2 Seoul, ap-northeast-1 Tokyo; Azure koreacentral, koreasouth), transcribed from the
public price pages named in :data:`SOURCES` on :data:`PRICES_AS_OF`. They are not
fetched at run time (no network, no credentials): refresh the table, and its date,
from the AWS Price List API / Azure Retail Prices API when they drift. Usage-based
charges (requests, data transfer, DNS queries) are left out; storage volumes that the
config does not state use the assumptions in :data:`ASSUMED_USAGE`, shown per line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stacks.config import StackConfig

PRICES_AS_OF = "2026-11-22"
HOURS_PER_MONTH = 730
SOURCES = {
    "aws": "https://aws.amazon.com/pricing/ (EC2 On-Demand, EKS, VPC NAT gateway, ELB, RDS for "
    "MySQL, DynamoDB on-demand, S3, Route 53, KMS, Secrets Manager, CloudWatch, ECR pages; "
    "same figures as the AWS Price List Bulk API offers for each region)",
    "azure": "https://azure.microsoft.com/pricing/ (Linux Virtual Machines, Azure Database for "
    "MySQL Flexible Server, Application Gateway, IP Addresses, Blob Storage, Managed Disks; "
    "same figures as https://prices.azure.com/api/retail/prices for koreacentral)",
}

# Assumed volumes where the config states none (the estimate is a baseline, not a bill).
ASSUMED_USAGE: dict[str, tuple[float, str]] = {
    "s3_gb_per_bucket": (10.0, "GB stored per S3 bucket (Standard)"),
    "dynamodb_gb_per_table": (1.0, "GB stored per DynamoDB table/replica"),
    "ecr_gb_per_repository": (1.0, "GB of images per ECR repository"),
    "backup_blob_gb": (100.0, "GB in a backup storage account (seed 001: Blob Storage 100 GB)"),
    "other_blob_gb": (1.0, "GB in any other storage account"),
    "eks_node_disk_gb": (20.0, "GB gp3 root volume per EKS node (managed node group default)"),
    "aurora_io_million": (100.0, "million I/O requests a month on the primary Aurora cluster"),
    "aurora_write_io_million": (
        50.0,
        "million write I/Os a month on the primary Aurora cluster, replicated to each secondary",
    ),
}

# Aurora MySQL (Aurora Standard configuration) per region. None of these is in the
# AWS documentation drstack can read offline, so each is an assumption with its source,
# printed by `drctl cost`; refresh them from the AWS Price List API
# (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonRDS/current/index.json).
AURORA_PRICES_AS_OF = "2026-11-29"
AURORA_ASSUMPTIONS: dict[str, tuple[float, str]] = {
    "instance_factor": (
        1.16,
        "Aurora MySQL instance hours = this region's RDS for MySQL price of the same class "
        "x 1.16, the us-east-1 ratio of Aurora MySQL db.r6g.large ($0.26/h) to RDS for MySQL "
        "db.r6g.large ($0.225/h) on https://aws.amazon.com/rds/aurora/pricing/ and "
        "https://aws.amazon.com/rds/mysql/pricing/ as recalled, not verifiable offline (a "
        "ratio, not a regional list price)",
    ),
    "storage_gb_month": (
        0.12,
        "Aurora Standard storage, USD per GB-month in Seoul and Tokyo (assumed: us-east-1 "
        "lists $0.10; Asia Pacific regions list more)",
    ),
    "io_per_million": (
        0.24,
        "Aurora Standard I/O, USD per million requests: the Tokyo rate (AWS Aurora pricing "
        "page, Tokyo, as quoted at https://zatoima.github.io/en/aws-aurora-cost-io-input-output.html); "
        "assumed the same in Seoul",
    ),
    "replicated_write_io_per_million": (
        0.24,
        "Aurora global database replicated write I/O, USD per million, billed in EACH "
        "secondary region (https://aws.amazon.com/rds/aurora/pricing/, Global Database); "
        "assumed equal to the secondary region's I/O rate, as in us-east-1 ($0.20 both)",
    ),
}

# End of EKS standard support per Kubernetes version (EKS version calendar,
# https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html): after it a
# cluster costs the extended-support rate, and at the end of extended support AWS
# upgrades it on its own.
EKS_STANDARD_SUPPORT_END: dict[str, str] = {
    "1.29": "2025-03-23",
    "1.30": "2025-07-23",
    "1.31": "2025-11-26",
    "1.32": "2026-03-23",
    "1.33": "2026-07-29",
    "1.34": "2026-12-02",
    "1.35": "2027-03-27",
}

# Hourly unless the key says otherwise.
PRICES: dict[str, dict[str, Any]] = {
    "ap-northeast-2": {
        "eks_cluster_h": 0.10,
        # A version past its standard support is billed at the extended-support rate.
        "eks_cluster_extended_h": 0.60,
        "ec2_h": {
            "t3.micro": 0.013,
            "t3.small": 0.026,
            "t3.medium": 0.052,
            "t3.large": 0.104,
            "t3.xlarge": 0.208,
            "m5.large": 0.118,
            "m5.xlarge": 0.236,
            "c5.large": 0.096,
            "m6i.large": 0.118,
        },
        "ebs_gp3_gb_month": 0.0912,
        "nat_gateway_h": 0.059,
        "public_ipv4_h": 0.005,
        "load_balancer_h": 0.0225,
        "rds_mysql_h": {
            "db.t3.micro": 0.026,
            "db.t3.small": 0.052,
            "db.t3.medium": 0.104,
            "db.t3.large": 0.208,
            "db.m5.large": 0.236,
            "db.r5.large": 0.29,
            "db.m6g.large": 0.211,
            "db.r6g.large": 0.259,
        },
        "rds_storage_gb_month": 0.131,
        "dynamodb_gb_month": 0.2705,
        "s3_standard_gb_month": 0.025,
        "ecr_gb_month": 0.10,
        "kms_key_month": 1.00,
        "secret_month": 0.40,
        "alarm_month": 0.10,
        "r53_zone_month": 0.50,
        "r53_hc_aws_month": 0.50,
        "r53_hc_other_month": 0.75,
        "r53_hc_feature_aws_month": 1.00,
        "r53_hc_feature_other_month": 2.00,
    },
    "ap-northeast-1": {
        "eks_cluster_h": 0.10,
        # A version past its standard support is billed at the extended-support rate.
        "eks_cluster_extended_h": 0.60,
        "ec2_h": {
            "t3.micro": 0.0136,
            "t3.small": 0.0272,
            "t3.medium": 0.0544,
            "t3.large": 0.1088,
            "t3.xlarge": 0.2176,
            "m5.large": 0.124,
            "m5.xlarge": 0.248,
            "c5.large": 0.107,
            "m6i.large": 0.124,
        },
        "ebs_gp3_gb_month": 0.096,
        "nat_gateway_h": 0.062,
        "public_ipv4_h": 0.005,
        "load_balancer_h": 0.0243,
        "rds_mysql_h": {
            "db.t3.micro": 0.026,
            "db.t3.small": 0.052,
            "db.t3.medium": 0.104,
            "db.t3.large": 0.208,
            "db.m5.large": 0.242,
            "db.r5.large": 0.30,
            "db.m6g.large": 0.217,
            "db.r6g.large": 0.269,
        },
        "rds_storage_gb_month": 0.138,
        "dynamodb_gb_month": 0.285,
        "s3_standard_gb_month": 0.025,
        "ecr_gb_month": 0.10,
        "kms_key_month": 1.00,
        "secret_month": 0.40,
        "alarm_month": 0.10,
        "r53_zone_month": 0.50,
        "r53_hc_aws_month": 0.50,
        "r53_hc_other_month": 0.75,
        "r53_hc_feature_aws_month": 1.00,
        "r53_hc_feature_other_month": 2.00,
    },
    # Global services whose metrics live in us-east-1 (the Route 53 health-check alarm).
    "us-east-1": {
        "alarm_month": 0.10,
        "kms_key_month": 1.00,
        "secret_month": 0.40,
        "r53_zone_month": 0.50,
        "r53_hc_aws_month": 0.50,
        "r53_hc_other_month": 0.75,
        "r53_hc_feature_aws_month": 1.00,
        "r53_hc_feature_other_month": 2.00,
    },
    "koreacentral": {
        "vm_h": {
            "Standard_B1s": 0.0124,
            "Standard_B1ms": 0.0248,
            "Standard_B2s": 0.0496,
            "Standard_B2ms": 0.0992,
            "Standard_D2s_v5": 0.115,
            "Standard_D2as_v5": 0.104,
        },
        "os_disk_month": 2.64,  # Standard SSD E4 (32 GiB)
        "mysql_h": {
            "Standard_B1s": 0.0124,
            "Standard_B1ms": 0.0248,
            "Standard_B2s": 0.0992,
            "Standard_B2ms": 0.1984,
            "Standard_D2ds_v4": 0.205,
            "Standard_D2ads_v5": 0.205,
        },
        "mysql_storage_gb_month": 0.138,
        "appgw_fixed_h": {"Standard_v2": 0.246, "WAF_v2": 0.443},
        "appgw_capacity_unit_h": {"Standard_v2": 0.008, "WAF_v2": 0.0144},
        "public_ip_h": 0.005,
        "blob_gb_month": {
            "Standard_LRS": 0.0208,
            "Standard_ZRS": 0.026,
            "Standard_GRS": 0.0458,
            "Standard_RAGRS": 0.0583,
            "Standard_GZRS": 0.0494,
        },
    },
}

# The pilot-light default (Busan). Korea South list prices differ from Korea Central's by
# a few percent at most; the rows are Korea Central's figures until refreshed from
# https://prices.azure.com/api/retail/prices?$filter=armRegionName eq 'koreasouth'.
# Korea South has no availability zones: no ZRS/GZRS rows.
PRICES["koreasouth"] = {
    **PRICES["koreacentral"],
    "blob_gb_month": {
        sku: price
        for sku, price in PRICES["koreacentral"]["blob_gb_month"].items()
        if sku not in ("Standard_ZRS", "Standard_GZRS")
    },
}
# Types that cost nothing by themselves (networking glue, IAM, config sub-resources...).
FREE_PREFIXES = (
    "pulumi:",
    # Generated values (the RDS master password) live in state only.
    "random:",
    "drstack:",
    "kubernetes:",
    "aws:iam/",
    "aws:ec2/vpc:",
    "aws:ec2/subnet:",
    "aws:ec2/routeTable",
    "aws:ec2/route:",
    "aws:ec2/internetGateway:",
    "aws:ec2/securityGroup",
    "aws:ec2/launchTemplate:",
    "aws:rds/subnetGroup:",
    # The global cluster itself: its clusters and instances are what is billed.
    "aws:rds/globalCluster:",
    "aws:kms/alias:",
    "aws:s3/bucketVersioning",
    "aws:s3/bucketServerSideEncryption",
    "aws:s3/bucketPublicAccessBlock",
    "aws:s3/bucketReplicationConfig",
    "aws:s3/bucketLifecycle",
    "aws:s3/bucketPolicy",
    "aws:route53/record:",
    "aws:lambda/",
    "aws:sns/",
    "aws:sqs/",  # an idle failed-events queue: within the free 1M requests/month
    "aws:cloudwatch/eventRule",
    "aws:cloudwatch/eventTarget",
    "aws:cloudwatch/logGroup",
    "aws:eks/podIdentityAssociation",
    "aws:eks/addon",
    "aws:eks/accessEntry",
    "aws:eks/accessPolicyAssociation",
    "aws:ecr/replicationConfiguration",
    "aws:ecr/lifecyclePolicy",
    "aws:secretsmanager/secretVersion",
    "azure-native:resources:",
    "azure-native:network:VirtualNetwork",
    "azure-native:network:Subnet",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:NetworkInterface",
    "azure-native:storage:BlobContainer",
    "azure-native:storage:BlobServiceProperties",
    "azure-native:storage:ManagementPolicy",
    "azure-native:storage:StorageAccountStaticWebsite",
    "azure-native:storage:Blob",
    "azure-native:dbformysql:Database",
    "azure-native:dbformysql:FirewallRule",
    "azure-native:dbformysql:Configuration",
    # Key Vault Standard bills per 10k operations (the gateway reads its certificate every
    # few hours: cents); identities and role assignments are free.
    "azure-native:keyvault:",
    "azure-native:managedidentity:",
    "azure-native:authorization:",
    "azure-native:network:PrivateDnsZone",
    "azure-native:privatedns:",
)


class RecordLike(Protocol):
    urn: str
    type: str
    name: str
    region: str | None
    inputs: dict[str, Any]


class SynthesisLike(Protocol):
    stack: str
    config: StackConfig
    resources: list[Any]


@dataclass(frozen=True)
class CostLine:
    urn: str
    type: str
    name: str
    region: str
    description: str
    monthly_usd: float
    priced: bool = True

    @property
    def hourly_usd(self) -> float:
        return self.monthly_usd / HOURS_PER_MONTH

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "region": self.region,
            "description": self.description,
            "monthly_usd": round(self.monthly_usd, 4),
            "priced": self.priced,
        }


@dataclass
class Cost:
    stack: str
    lines: list[CostLine] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    @property
    def unpriced(self) -> list[CostLine]:
        return [line for line in self.lines if not line.priced]

    def by_urn(self) -> dict[str, CostLine]:
        return {line.urn: line for line in self.lines}

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "currency": "USD",
            "prices_as_of": PRICES_AS_OF,
            "monthly_usd": round(self.monthly_usd, 2),
            "lines": [line.as_json() for line in self.lines if line.monthly_usd or not line.priced],
            "unpriced": [line.type for line in self.unpriced],
        }


def _table(region: str) -> Mapping[str, Any]:
    if region not in PRICES:
        raise KeyError(region)
    return PRICES[region]


def _usage(key: str) -> float:
    return ASSUMED_USAGE[key][0]


def _h(hourly: float) -> float:
    return hourly * HOURS_PER_MONTH


def _price_aws(rec: RecordLike, cfg: StackConfig, region: str) -> tuple[float, str] | None:
    p = _table(region)
    i = rec.inputs
    t = rec.type
    if t == "aws:eks/cluster:Cluster":
        version = str(i.get("version") or cfg.eks.version)
        if EKS_STANDARD_SUPPORT_END.get(version, "9999") <= PRICES_AS_OF:
            return _h(
                p["eks_cluster_extended_h"]
            ), f"EKS control plane {version} (extended support)"
        return _h(p["eks_cluster_h"]), f"EKS control plane {version} (standard support)"
    if t == "aws:eks/nodeGroup:NodeGroup":
        size = int((i.get("scalingConfig") or {}).get("desiredSize") or 0)
        itype = (i.get("instanceTypes") or [cfg.eks.instance_type])[0]
        disk = float(i.get("diskSize") or _usage("eks_node_disk_gb"))
        node = _h(p["ec2_h"][itype]) + disk * p["ebs_gp3_gb_month"]
        return size * node, f"{size} × {itype} + {disk:g} GB gp3"
    if t == "aws:ec2/instance:Instance":
        itype = i.get("instanceType", "t3.micro")
        return _h(p["ec2_h"][itype]), f"EC2 {itype}"
    if t == "aws:ec2/natGateway:NatGateway":
        return _h(p["nat_gateway_h"]), "NAT gateway (hours, no data processing)"
    if t == "aws:ec2/eip:Eip":
        return _h(p["public_ipv4_h"]), "public IPv4 address"
    if t == "aws:rds/instance:Instance":
        cls = i.get("instanceClass", cfg.rds.instance_class)
        storage = float(i.get("allocatedStorage") or cfg.rds.allocated_storage)
        copies = 2 if i.get("multiAz") in (True, "true") else 1
        monthly = copies * (_h(p["rds_mysql_h"][cls]) + storage * p["rds_storage_gb_month"])
        role = "replica" if i.get("replicateSourceDb") else "instance"
        return (
            monthly,
            f"RDS MySQL {role} {cls}{' Multi-AZ' if copies == 2 else ''} + {storage:g} GB",
        )
    if t in ("aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance"):
        return _price_aurora(rec, cfg, p)
    if t in ("aws:dynamodb/table:Table", "aws:dynamodb/tableReplica:TableReplica"):
        gb = _usage("dynamodb_gb_per_table")
        return gb * p["dynamodb_gb_month"], f"DynamoDB on-demand, {gb:g} GB stored (requests extra)"
    if t in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        gb = _usage("s3_gb_per_bucket")
        return gb * p["s3_standard_gb_month"], f"S3 Standard, {gb:g} GB assumed"
    if t == "aws:ecr/repository:Repository":
        gb = _usage("ecr_gb_per_repository")
        return gb * p["ecr_gb_month"], f"ECR, {gb:g} GB assumed"
    if t == "aws:kms/key:Key":
        return p["kms_key_month"], "KMS customer managed key"
    if t == "aws:secretsmanager/secret:Secret":
        # Each replica in another region is billed as a secret of its own.
        copies = 1 + len(i.get("replicas") or [])
        return copies * p["secret_month"], f"Secrets Manager secret × {copies} (with replicas)"
    if t == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return p["alarm_month"], "CloudWatch standard alarm"
    if t == "aws:route53/zone:Zone":
        return p["r53_zone_month"], "Route 53 hosted zone"
    if t == "aws:route53/healthCheck:HealthCheck":
        aws_endpoint = "amazonaws.com" in str(i.get("fqdn", "")) or bool(i.get("ipAddress"))
        kind = "aws" if aws_endpoint else "other"
        features = int(str(i.get("type", "")).startswith("HTTPS")) + int(
            int(i.get("requestInterval") or 30) == 10
        )
        monthly = p[f"r53_hc_{kind}_month"] + features * p[f"r53_hc_feature_{kind}_month"]
        return monthly, f"Route 53 health check ({kind} endpoint, {features} optional features)"
    return None


def _aurora(key: str) -> float:
    return AURORA_ASSUMPTIONS[key][0]


def aurora_cluster_monthly(gb: float, io_million: float, replicated_million: float) -> float:
    """One Aurora Standard cluster a month: storage, its I/O, and (a secondary) the
    replicated write I/O of the global database."""
    return (
        gb * _aurora("storage_gb_month")
        + io_million * _aurora("io_per_million")
        + replicated_million * _aurora("replicated_write_io_per_million")
    )


def _price_aurora(rec: RecordLike, cfg: StackConfig, p: Mapping[str, Any]) -> tuple[float, str]:
    i = rec.inputs
    if rec.type == "aws:rds/clusterInstance:ClusterInstance":
        cls = str(i.get("instanceClass") or cfg.rds.aurora_instance_class)
        hourly = p["rds_mysql_h"][cls] * _aurora("instance_factor")
        return _h(hourly), f"Aurora MySQL instance {cls} (assumed price, see drctl cost)"
    gb = float(cfg.rds.allocated_storage)
    # A secondary (no master user of its own) serves no writes: it is billed the
    # replicated write I/Os instead of the primary's own I/O.
    secondary = bool(i.get("globalClusterIdentifier")) and not i.get("masterUsername")
    if secondary:
        writes = _usage("aurora_write_io_million")
        return (
            aurora_cluster_monthly(gb, 0.0, writes),
            f"Aurora secondary: {gb:g} GB (rds.allocated_storage) + {writes:g}M replicated "
            "write I/Os (assumed)",
        )
    io = _usage("aurora_io_million")
    return (
        aurora_cluster_monthly(gb, io, 0.0),
        f"Aurora storage {gb:g} GB (rds.allocated_storage) + {io:g}M I/Os (assumed)",
    )


def _price_azure(rec: RecordLike, cfg: StackConfig) -> tuple[float, str, str] | None:
    i = rec.inputs
    t = rec.type
    region = str(i.get("location") or cfg.azure.location)
    p = _table(region)
    if t == "azure-native:compute:VirtualMachine":
        size = (i.get("hardwareProfile") or {}).get("vmSize", cfg.azure.web_vm_size)
        return _h(p["vm_h"][size]) + p["os_disk_month"], f"VM {size} + E4 OS disk", region
    if t == "azure-native:dbformysql:Server":
        sku = (i.get("sku") or {}).get("name", cfg.azure.mysql_sku)
        gb = float((i.get("storage") or {}).get("storageSizeGB") or cfg.azure.mysql_storage_gb)
        monthly = _h(p["mysql_h"][sku]) + gb * p["mysql_storage_gb_month"]
        return monthly, f"MySQL Flexible Server {sku} + {gb:g} GB", region
    if t == "azure-native:network:ApplicationGateway":
        sku = i.get("sku") or {}
        tier = sku.get("tier") or sku.get("name") or "Standard_v2"
        units = (
            (i.get("autoscaleConfiguration") or {}).get("minCapacity") or sku.get("capacity") or 1
        )
        monthly = _h(p["appgw_fixed_h"][tier] + int(units) * p["appgw_capacity_unit_h"][tier])
        return monthly, f"Application Gateway {tier}, {units} capacity unit(s)", region
    if t == "azure-native:network:PublicIPAddress":
        return _h(p["public_ip_h"]), "Standard static public IP", region
    if t == "azure-native:storage:StorageAccount":
        sku = (i.get("sku") or {}).get("name", "Standard_LRS")
        backup = bool(i.get("_has_container"))
        gb = _usage("backup_blob_gb" if backup else "other_blob_gb")
        return gb * p["blob_gb_month"][sku], f"Blob {sku}, {gb:g} GB assumed", region
    return None


def _is_free(type_: str) -> bool:
    return type_.startswith(FREE_PREFIXES)


def estimate(synthesis: SynthesisLike) -> Cost:
    """Itemised monthly cost of one synthesized stack."""
    cfg = synthesis.config
    cost = Cost(synthesis.stack)
    # Storage accounts that hold a blob container are the backup store.
    containers = [r for r in synthesis.resources if r.type == "azure-native:storage:BlobContainer"]
    with_container = {u for r in containers for u in r.depends_on}
    for rec in synthesis.resources:
        if rec.type == "kubernetes:core/v1:Service":
            if (rec.inputs.get("spec") or {}).get("type") == "LoadBalancer":
                region = rec.region or cfg.region
                monthly = _h(_table(region)["load_balancer_h"])
                cost.lines.append(
                    CostLine(
                        rec.urn, rec.type, rec.name, region, "load balancer (Service)", monthly
                    )
                )
            continue
        if _is_free(rec.type):
            continue
        try:
            if rec.type.startswith("azure-native:"):
                inputs = dict(rec.inputs)
                if rec.urn in with_container:
                    inputs["_has_container"] = True
                proxy = _Rec(rec.urn, rec.type, rec.name, rec.region, inputs)
                priced = _price_azure(proxy, cfg)
                if priced is not None:
                    monthly, what, region = priced
                    cost.lines.append(CostLine(rec.urn, rec.type, rec.name, region, what, monthly))
                    continue
            elif rec.type.startswith("aws:"):
                region = rec.region or cfg.region
                aws_priced = _price_aws(rec, cfg, region)
                if aws_priced is not None:
                    monthly, what = aws_priced
                    cost.lines.append(CostLine(rec.urn, rec.type, rec.name, region, what, monthly))
                    continue
        except KeyError as missing:
            cost.lines.append(
                CostLine(
                    rec.urn,
                    rec.type,
                    rec.name,
                    rec.region or "",
                    f"no price for {missing}",
                    0.0,
                    False,
                )
            )
            continue
        cost.lines.append(
            CostLine(
                rec.urn, rec.type, rec.name, rec.region or "", "not in the price table", 0.0, False
            )
        )
    return cost


@dataclass
class _Rec:
    urn: str
    type: str
    name: str
    region: str | None
    inputs: dict[str, Any]
