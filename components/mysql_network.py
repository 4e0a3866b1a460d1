"""The DB subnet group and the MySQL security group an RDS instance or Aurora cluster sits in."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

MYSQL_PORT = 3306


def mysql_network(
    name: str,
    *,
    identifier: str,
    subnet_ids: Sequence[pulumi.Input[str]],
    vpc_id: pulumi.Input[str],
    client_cidr: str,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.rds.SubnetGroup, aws.ec2.SecurityGroup]:
    """`<name>-subnets` and `<name>-sg`: MySQL reachable only from ``client_cidr`` (the
    VPC, where the EKS pods live)."""
    subnet_group = aws.rds.SubnetGroup(
        f"{name}-subnets",
        name=f"{identifier}-subnets",
        subnet_ids=list(subnet_ids),
        tags=tags,
        opts=opts,
    )
    security_group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        name=f"{identifier}-mysql",
        description=f"MySQL from inside the VPC to {identifier}",
        vpc_id=vpc_id,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=MYSQL_PORT,
                to_port=MYSQL_PORT,
                cidr_blocks=[client_cidr],
            )
        ],
        tags=tags,
        opts=opts,
    )
    return subnet_group, security_group
