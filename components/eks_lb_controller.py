"""The AWS Load Balancer Controller: the only thing that acts on a Service annotated
``aws-load-balancer-type: external``. Without it such a Service never gets a load balancer.

Installed as a Helm release (pulumi-kubernetes) with its IAM role granted through EKS
Pod Identity (no OIDC provider needed). Docs:
https://docs.aws.amazon.com/eks/latest/userguide/lbc-helm.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import assume_role_policy

CHART = "aws-load-balancer-controller"
# Chart 1.14.1 ships controller v2.14.1, the release the EKS user guide documents.
CHART_VERSION = "1.14.1"
CHART_REPO = "https://aws.github.io/eks-charts"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"


def _statement(actions: list[str], resource: str = "*", **condition: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resource}
    if condition:
        stmt["Condition"] = condition
    return stmt


# Long but flat: one literal policy document, kept statement by statement next to the
# published file so a controller upgrade is a line-by-line diff.
# long: one literal document, the controller's published IAM policy
def controller_policy() -> str:
    """The permissions of the controller's published iam_policy.json (v2.14): read-only
    discovery everywhere; create/modify/delete only on resources it tagged itself."""
    tagged = {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                _statement(
                    ["iam:CreateServiceLinkedRole"],
                    StringEquals={"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"},
                ),
                _statement(
                    [
                        "ec2:DescribeAccountAttributes",
                        "ec2:DescribeAddresses",
                        "ec2:DescribeAvailabilityZones",
                        "ec2:DescribeInternetGateways",
                        "ec2:DescribeVpcs",
                        "ec2:DescribeVpcPeeringConnections",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeInstances",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeTags",
                        "ec2:GetCoipPoolUsage",
                        "ec2:DescribeCoipPools",
                        "ec2:GetSecurityGroupsForVpc",
                        "ec2:DescribeIpamPools",
                        "ec2:DescribeRouteTables",
                        "elasticloadbalancing:Describe*",
                    ]
                ),
                _statement(
                    [
                        "acm:ListCertificates",
                        "acm:DescribeCertificate",
                        "iam:ListServerCertificates",
                        "iam:GetServerCertificate",
                        "cognito-idp:DescribeUserPoolClient",
                        "wafv2:GetWebACL",
                        "wafv2:GetWebACLForResource",
                        "wafv2:AssociateWebACL",
                        "wafv2:DisassociateWebACL",
                        "shield:GetSubscriptionState",
                        "shield:DescribeProtection",
                        "shield:CreateProtection",
                        "shield:DeleteProtection",
                    ]
                ),
                _statement(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]),
                _statement(["ec2:CreateSecurityGroup"]),
                _statement(
                    ["ec2:CreateTags"],
                    "arn:aws:ec2:*:*:security-group/*",
                    StringEquals={"ec2:CreateAction": "CreateSecurityGroup"},
                    Null={"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
                ),
                _statement(
                    ["ec2:CreateTags", "ec2:DeleteTags"],
                    "arn:aws:ec2:*:*:security-group/*",
                    Null={
                        "aws:RequestTag/elbv2.k8s.aws/cluster": "true",
                        "aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
                    },
                ),
                _statement(
                    [
                        "ec2:AuthorizeSecurityGroupIngress",
                        "ec2:RevokeSecurityGroupIngress",
                        "ec2:DeleteSecurityGroup",
                    ],
                    Null=tagged,
                ),
                _statement(
                    [
                        "elasticloadbalancing:CreateLoadBalancer",
                        "elasticloadbalancing:CreateTargetGroup",
                    ],
                    Null={"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
                ),
                _statement(
                    [
                        "elasticloadbalancing:CreateListener",
                        "elasticloadbalancing:DeleteListener",
                        "elasticloadbalancing:CreateRule",
                        "elasticloadbalancing:DeleteRule",
                    ]
                ),
                _statement(
                    ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
                    "arn:aws:elasticloadbalancing:*:*:*",
                    Null={
                        "aws:RequestTag/elbv2.k8s.aws/cluster": "true",
                        "aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
                    },
                ),
                _statement(
                    [
                        "elasticloadbalancing:ModifyLoadBalancerAttributes",
                        "elasticloadbalancing:SetIpAddressType",
                        "elasticloadbalancing:SetSecurityGroups",
                        "elasticloadbalancing:SetSubnets",
                        "elasticloadbalancing:DeleteLoadBalancer",
                        "elasticloadbalancing:ModifyTargetGroup",
                        "elasticloadbalancing:ModifyTargetGroupAttributes",
                        "elasticloadbalancing:DeleteTargetGroup",
                        "elasticloadbalancing:ModifyListenerAttributes",
                        "elasticloadbalancing:ModifyCapacityReservation",
                        "elasticloadbalancing:ModifyIpPools",
                    ],
                    Null=tagged,
                ),
                _statement(
                    ["elasticloadbalancing:AddTags"],
                    "arn:aws:elasticloadbalancing:*:*:*",
                    StringEquals={
                        "elasticloadbalancing:CreateAction": [
                            "CreateTargetGroup",
                            "CreateLoadBalancer",
                        ]
                    },
                    Null={"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
                ),
                _statement(
                    [
                        "elasticloadbalancing:RegisterTargets",
                        "elasticloadbalancing:DeregisterTargets",
                    ],
                    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
                ),
                _statement(
                    [
                        "elasticloadbalancing:SetWebAcl",
                        "elasticloadbalancing:ModifyListener",
                        "elasticloadbalancing:AddListenerCertificates",
                        "elasticloadbalancing:RemoveListenerCertificates",
                        "elasticloadbalancing:ModifyRule",
                        "elasticloadbalancing:SetRulePriorities",
                    ]
                ),
            ],
        }
    )


@dataclass(kw_only=True)
class LbControllerArgs:
    provider: aws.Provider
    k8s_provider: k8s.Provider
    cluster_name: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]
    # The Pod Identity agent and the nodes: the controller pod needs both to start.
    depends_on: list[pulumi.Resource]
    tags: dict[str, str]


def install_lb_controller(
    name: str, args: LbControllerArgs, parent: pulumi.Resource
) -> k8s.helm.v3.Release:
    aws_opts = pulumi.ResourceOptions(parent=parent, provider=args.provider)
    role = aws.iam.Role(
        f"{name}-lbc-role",
        # Pod Identity needs TagSession as well as AssumeRole (session tags carry the pod).
        assume_role_policy=assume_role_policy(
            "pods.eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")
        ),
        tags=args.tags,
        opts=aws_opts,
    )
    aws.iam.RolePolicy(
        f"{name}-lbc-policy", role=role.id, policy=controller_policy(), opts=aws_opts
    )
    association = aws.eks.PodIdentityAssociation(
        f"{name}-lbc-identity",
        cluster_name=args.cluster_name,
        namespace=NAMESPACE,
        service_account=SERVICE_ACCOUNT,
        role_arn=role.arn,
        tags=args.tags,
        opts=aws_opts,
    )
    return k8s.helm.v3.Release(
        f"{name}-lbc",
        name=CHART,
        chart=CHART,
        version=CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO),
        namespace=NAMESPACE,
        values={
            "clusterName": args.cluster_name,
            # Region and VPC given explicitly: IMDSv2's hop limit keeps pods from asking.
            "region": args.region,
            "vpcId": args.vpc_id,
            "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
            "replicaCount": 2,
        },
        # The controller's webhook must answer before any Service is created.
        atomic=True,
        timeout=600,
        opts=pulumi.ResourceOptions(
            parent=parent,
            provider=args.k8s_provider,
            depends_on=[association, *args.depends_on],
        ),
    )
