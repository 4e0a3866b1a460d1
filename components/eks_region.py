"""EksRegion: one region's network, EKS cluster, node group and the app deployments.

The primary runs at full scale; a warm standby runs the same workloads at reduced
scale, and failover scales the deployments up (drctl) rather than creating them.

Construction builds the network, the cluster, the AWS Load Balancer Controller
(``eks_lb_controller``), the app's TLS certificate (``eks_tls``) and its load-balanced
Service; ``deploy_workloads(db_host, db_secret_arn, app_user)`` then adds the app and
services (``eks_workloads``) once the database, which needs this VPC, exists; on the
primary, ``app_user`` also runs the Job that creates the app's database user first
(``app_db_user``).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.app_db_user import AppUserJobArgs, AppUserSpec, app_user_job
from components.eks_lb_controller import LbControllerArgs, install_lb_controller
from components.eks_tls import CertificateArgs, dns_validated_certificate
from components.eks_workloads import (
    APP_NAME,
    AppIdentityArgs,
    app_identity,
    cluster_services,
    deployment,
    service_image,
)
from components.eks_workloads import app_service as app_service_for
from components.iam import assume_role_policy
from components.settings import AppConfig, EksConfig

AZ_COUNT = 2

_EKS_NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)


@dataclass(kw_only=True)
class EksRegionArgs:
    provider: aws.Provider
    region: str
    cluster_name: str
    vpc_cidr: str
    eks: EksConfig
    app: AppConfig
    # Deployment name -> replica count in this region.
    services: Mapping[str, int]
    # Registry host the service images come from, e.g. <acct>.dkr.ecr.<region>.amazonaws.com
    image_registry: pulumi.Input[str]
    region_label: str
    role: str
    # Repository -> immutable tag; only workloads with a pinned image are deployed.
    image_tags: Mapping[str, str] = field(default_factory=dict)
    db_host: pulumi.Input[str] = ""
    db_name: str = ""
    # This region's copy of the app's own login secret (JSON username/password): never
    # the master credential (policy app-not-master-user).
    db_secret_arn: pulumi.Input[str] = ""
    # Primary only: the secrets the deploy-time Job reads to create the app's user.
    app_user: AppUserSpec | None = None
    tags: dict[str, str] = field(default_factory=dict)


def _kubeconfig(
    name: pulumi.Input[str], endpoint: pulumi.Input[str], ca: pulumi.Input[str], region: str
) -> pulumi.Output[str]:
    # Token via `aws eks get-token`: no long-lived credential is ever written into the
    # kubeconfig, and it works for whoever runs `pulumi up` with the right IAM access.
    def render(values: list[str]) -> str:
        cluster, server, ca_data = values
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": cluster,
                        "cluster": {"server": server, "certificate-authority-data": ca_data},
                    }
                ],
                "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
                "current-context": cluster,
                "users": [
                    {
                        "name": cluster,
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1beta1",
                                "command": "aws",
                                "args": [
                                    "eks",
                                    "get-token",
                                    "--cluster-name",
                                    cluster,
                                    "--region",
                                    region,
                                ],
                            }
                        },
                    }
                ],
            }
        )

    return pulumi.Output.all(name, endpoint, ca).apply(render)


def _nth(i: int) -> Callable[[list[str]], str]:
    return lambda names: names[i]


def image_repository_for(deployment: str) -> str:
    # Seed 000 names deployments "auth-deployment" but repositories "auth-service".
    return (
        deployment.removesuffix("-deployment") + "-service"
        if deployment.endswith("-deployment")
        else deployment
    )


@dataclass(frozen=True)
class _Network:
    vpc: aws.ec2.Vpc
    igw: aws.ec2.InternetGateway
    public_subnets: list[aws.ec2.Subnet]
    private_subnets: list[aws.ec2.Subnet]


class EksRegion(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    cluster_security_group_id: pulumi.Output[str]
    app_hostname: pulumi.Output[str]
    app_url: pulumi.Output[str]
    app_tls: bool
    deployments: dict[str, int]
    k8s_provider: k8s.Provider

    def __init__(
        self, name: str, args: EksRegionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:eks_region:EksRegion", name, None, opts)
        aws_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)
        tags = {**args.tags, "Region": args.region_label}
        network = self._network(name, args, tags, aws_opts)
        cluster = self._control_plane(name, args, tags, aws_opts, network)
        nodes, pod_identity = self._node_group(name, args, tags, aws_opts, network, cluster)
        vpc = network.vpc
        private_subnets = network.private_subnets

        self.kubeconfig = pulumi.Output.secret(
            _kubeconfig(
                cluster.name, cluster.endpoint, cluster.certificate_authority.data, args.region
            )
        )
        self.k8s_provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, opts=pulumi.ResourceOptions(parent=self)
        )

        # ---------------------------------------------------------------- workloads
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=self.k8s_provider)
        controller = install_lb_controller(
            name,
            LbControllerArgs(
                provider=args.provider,
                k8s_provider=self.k8s_provider,
                cluster_name=cluster.name,
                region=args.region,
                vpc_id=vpc.id,
                depends_on=[pod_identity, nodes],
                tags=tags,
            ),
            parent=self,
        )
        certificate_arn = self._certificate(name, args, tags)
        # Created after the controller: its webhook must be up, and on destroy the Service
        # goes first so the controller can still delete the load balancer it made.
        app_service = app_service_for(
            name,
            args.app.port,
            certificate_arn,
            pulumi.ResourceOptions(
                parent=self, provider=self.k8s_provider, depends_on=[controller]
            ),
        )
        self.app_tls = certificate_arn is not None
        self.cluster_name = cluster.name
        self.vpc_id = vpc.id
        self.private_subnet_ids = [s.id for s in private_subnets]
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self.app_hostname = app_service.status.load_balancer.ingress[0].hostname
        self.app_url = pulumi.Output.concat(
            "https://" if self.app_tls else "http://", self.app_hostname
        )
        self._workload_context = (name, args, cluster.name, pod_identity, k8s_opts, tags)
        self.deployments = {}

    # ---------------------------------------------------------------- network
    def _network(
        self,
        name: str,
        args: EksRegionArgs,
        tags: dict[str, str],
        aws_opts: pulumi.ResourceOptions,
    ) -> _Network:
        azs = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOptions(parent=self, provider=args.provider)
        )
        vpc_net = ipaddress.ip_network(args.vpc_cidr)
        blocks = list(vpc_net.subnets(new_prefix=min(vpc_net.prefixlen + 4, 28)))
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{args.cluster_name}-vpc"},
            opts=aws_opts,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=aws_opts)
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        public_subnets, private_subnets = [], []
        for i in range(AZ_COUNT):
            az = azs.names.apply(_nth(i))
            public_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-public-{i}",
                    vpc_id=vpc.id,
                    cidr_block=str(blocks[i]),
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    # Tells the AWS Load Balancer Controller where internet-facing LBs go.
                    tags={
                        **tags,
                        **cluster_tag,
                        "kubernetes.io/role/elb": "1",
                        "Name": f"{args.cluster_name}-public-{i}",
                    },
                    opts=aws_opts,
                )
            )
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{i}",
                    vpc_id=vpc.id,
                    cidr_block=str(blocks[AZ_COUNT + i]),
                    availability_zone=az,
                    tags={
                        **tags,
                        **cluster_tag,
                        "kubernetes.io/role/internal-elb": "1",
                        "Name": f"{args.cluster_name}-private-{i}",
                    },
                    opts=aws_opts,
                )
            )
        network = _Network(vpc, igw, public_subnets, private_subnets)
        self._routes(name, args, tags, aws_opts, network)
        return network

    def _routes(
        self,
        name: str,
        args: EksRegionArgs,
        tags: dict[str, str],
        aws_opts: pulumi.ResourceOptions,
        network: _Network,
    ) -> None:
        vpc, igw = network.vpc, network.igw
        public_subnets, private_subnets = network.public_subnets, network.private_subnets
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=tags,
            opts=aws_opts,
        )
        # One NAT gateway: a second one per AZ doubles a fixed monthly cost; an AZ loss
        # is survived by the other region, which is what this stack exists for.
        nat_eip = aws.ec2.Eip(f"{name}-nat-eip", domain="vpc", tags=tags, opts=aws_opts)
        nat = aws.ec2.NatGateway(
            f"{name}-nat",
            allocation_id=nat_eip.id,
            subnet_id=public_subnets[0].id,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[igw]),
        )
        private_rt = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
            tags=tags,
            opts=aws_opts,
        )
        for i in range(AZ_COUNT):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{i}",
                subnet_id=public_subnets[i].id,
                route_table_id=public_rt.id,
                opts=aws_opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{i}",
                subnet_id=private_subnets[i].id,
                route_table_id=private_rt.id,
                opts=aws_opts,
            )

    # ---------------------------------------------------------------- cluster
    def _control_plane(
        self,
        name: str,
        args: EksRegionArgs,
        tags: dict[str, str],
        aws_opts: pulumi.ResourceOptions,
        network: _Network,
    ) -> aws.eks.Cluster:
        public_subnets, private_subnets = network.public_subnets, network.private_subnets
        cluster_role = aws.iam.Role(
            f"{name}-cluster-role",
            assume_role_policy=assume_role_policy("eks.amazonaws.com"),
            tags=tags,
            opts=aws_opts,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=cluster_role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=aws_opts,
        )
        secrets_key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"EKS secrets envelope encryption for {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=aws_opts,
        )
        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            role_arn=cluster_role.arn,
            version=args.eks.version,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=[s.id for s in private_subnets + public_subnets],
                endpoint_private_access=True,
                # Never 0.0.0.0/0 (CKV_AWS_38/39): only the operators' CIDRs, or private only.
                endpoint_public_access=bool(args.eks.public_access_cidrs),
                public_access_cidrs=list(args.eks.public_access_cidrs) or None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API_AND_CONFIG_MAP",
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key.arn),
            ),
            enabled_cluster_log_types=["api", "audit", "authenticator"],
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[cluster_policy]
            ),
        )
        return cluster

    def _node_group(
        self,
        name: str,
        args: EksRegionArgs,
        tags: dict[str, str],
        aws_opts: pulumi.ResourceOptions,
        network: _Network,
        cluster: aws.eks.Cluster,
    ) -> tuple[aws.eks.NodeGroup, aws.eks.Addon]:
        private_subnets = network.private_subnets
        node_role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            tags=tags,
            opts=aws_opts,
        )
        node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-policy-{i}", role=node_role.name, policy_arn=arn, opts=aws_opts
            )
            for i, arn in enumerate(_EKS_NODE_POLICIES)
        ]
        nodes = aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=cluster.name,
            node_role_arn=node_role.arn,
            subnet_ids=[s.id for s in private_subnets],
            instance_types=[args.eks.instance_type],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=args.eks.desired_size,
                min_size=args.eks.min_size,
                max_size=args.eks.max_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            tags=tags,
            # Nodes cannot join before the node role can pull images and run the CNI.
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=node_policies
            ),
        )

        # EKS Pod Identity gives pods (e.g. the pilot-light backup job) IAM access
        # without node-wide credentials; the agent runs on the nodes, so it waits for them.
        pod_identity = aws.eks.Addon(
            f"{name}-pod-identity-agent",
            cluster_name=cluster.name,
            addon_name="eks-pod-identity-agent",
            resolve_conflicts_on_create="OVERWRITE",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[nodes]),
        )
        return nodes, pod_identity

    def deploy_workloads(
        self,
        db_host: pulumi.Input[str],
        db_secret_arn: pulumi.Input[str],
        app_user: AppUserSpec | None = None,
    ) -> dict[str, int]:
        """The app and services, once the database they use exists (the database needs
        this component's VPC first, so the composition calls this after creating it).
        ``db_secret_arn`` is the app's own login; ``app_user`` (primary only) creates it."""
        name, args, cluster_name, pod_identity, k8s_opts, tags = self._workload_context
        args = replace(args, db_host=db_host, db_secret_arn=db_secret_arn, app_user=app_user)
        self.deployments = self._workloads(name, args, cluster_name, pod_identity, k8s_opts, tags)
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "vpc_id": self.vpc_id,
                "app_hostname": self.app_hostname,
                "deployments": self.deployments,
            }
        )
        return self.deployments

    def _certificate(
        self, name: str, args: EksRegionArgs, tags: dict[str, str]
    ) -> pulumi.Input[str] | None:
        if args.app.certificate_arn:
            return args.app.certificate_arn
        if args.app.domain:
            return dns_validated_certificate(
                name,
                CertificateArgs(
                    provider=args.provider, domain=args.app.domain, zone=args.app.zone, tags=tags
                ),
                parent=self,
            )
        return None

    def _workloads(
        self,
        name: str,
        args: EksRegionArgs,
        cluster_name: pulumi.Output[str],
        pod_identity: pulumi.Resource,
        k8s_opts: pulumi.ResourceOptions,
        tags: dict[str, str],
    ) -> dict[str, int]:
        """Only workloads with a pinned image are deployed: on an empty account the
        repositories are empty, and a Deployment of a missing image fails `up`."""
        images = {
            deployment: service_image(args.image_registry, image_repository_for(deployment), tag)
            for deployment in args.services
            if (tag := args.image_tags.get(image_repository_for(deployment)))
        }
        deployed = cluster_services(name, args.services, images, k8s_opts)
        app_image = args.app.image or (
            service_image(args.image_registry, APP_NAME, args.image_tags[APP_NAME])
            if APP_NAME in args.image_tags
            else None
        )
        if app_image is None:
            return deployed
        identity = app_identity(
            name,
            AppIdentityArgs(
                provider=args.provider,
                cluster_name=cluster_name,
                db_secret_arn=args.db_secret_arn,
                region=args.region,
                tags=tags,
            ),
            parent=self,
            k8s_opts=k8s_opts,
        )
        user_job = self._app_user_job(
            name,
            args,
            cluster_name,
            app_image,
            pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=[pod_identity])
            ),
            tags,
        )
        env = [
            # The cloud region: what `drctl failover` expects /health to report.
            k8s.core.v1.EnvVarArgs(name="DRSTACK_REGION", value=args.region),
            k8s.core.v1.EnvVarArgs(name="DRSTACK_STACK", value=args.region_label),
            k8s.core.v1.EnvVarArgs(name="DRSTACK_ROLE", value=args.role),
            k8s.core.v1.EnvVarArgs(name="AWS_REGION", value=args.region),
            k8s.core.v1.EnvVarArgs(name="PORT", value=str(args.app.port)),
            k8s.core.v1.EnvVarArgs(name="BIND", value="0.0.0.0"),
            k8s.core.v1.EnvVarArgs(name="DB_HOST", value=args.db_host),
            k8s.core.v1.EnvVarArgs(name="DB_NAME", value=args.db_name),
            # Only the ARN: the app reads the login from this region's copy of the secret.
            k8s.core.v1.EnvVarArgs(name="DB_SECRET_ARN", value=args.db_secret_arn),
        ]
        deployment(
            name,
            APP_NAME,
            app_image,
            args.app.replicas,
            args.app.port,
            env,
            pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=[pod_identity, *identity, *user_job])
            ),
            service_account=APP_NAME,
        )
        return {APP_NAME: args.app.replicas, **deployed}

    def _app_user_job(
        self,
        name: str,
        args: EksRegionArgs,
        cluster_name: pulumi.Output[str],
        app_image: pulumi.Input[str],
        k8s_opts: pulumi.ResourceOptions,
        tags: dict[str, str],
    ) -> list[pulumi.Resource]:
        """The Job that creates the app's database user, in the app's own image (it carries
        ``app.db_user``); none in a DR region, where the user arrives by replication."""
        if args.app_user is None:
            return []
        job = app_user_job(
            name,
            AppUserJobArgs(
                provider=args.provider,
                cluster_name=cluster_name,
                region=args.region,
                image=app_image,
                db_host=args.db_host,
                db_name=args.db_name,
                user=args.app_user,
                tags=tags,
            ),
            parent=self,
            k8s_opts=k8s_opts,
        )
        return [job]
