"""AzurePilotLight: seed 001's Plan B site on Azure (pulumi-azure-native v3).

Always on (about $12/month, almost all of it backup storage): a resource group, a VNet
with its subnets and NSGs, the hardened backup storage account with its `mysql-backups`
container (firewalled, reached with container-scoped SAS only), a tiny second storage
account whose static website is the maintenance page, and the Key Vault holding the
service's TLS certificate with the identity the gateway reads it with. Subnets, NSGs,
the vault and the identity cost nothing at rest, so they exist in every phase: flipping
`emergency` then only adds compute and never reshapes the network under a recovery.

With `emergency`: the MySQL Flexible Server (private access) and its database (the
dumped one, `portforge`), the web (nginx) and WAS (PetClinic) VMs, and the Application
Gateway (HTTPS on 443 with the Key Vault certificate, port 80 redirects) whose routing
rule targets the maintenance page until `enable_petclinic`, then the web VM.
"""

from __future__ import annotations

import base64
import ipaddress
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import (
    authorization,
    compute,
    dbformysql,
    network,
    privatedns,
    resources,
    storage,
)

from components.azure_backup_access import (
    READER_PERMISSIONS,
    WRITER_PERMISSIONS,
    container_sas,
)
from components.azure_gateway_tls import GatewayTls, gateway_tls
from components.azure_restore_job import RESTORE_DELEGATION, restore_job
from components.settings import AzureConfig, BackupConfig

BACKUP_CONTAINER = "mysql-backups"  # seed 001's container name
# drctl names dumps backup_<UTC stamp>Z.sql.<zst|gz>; the `latest` marker is deliberately
# outside this prefix so the lifecycle rule can never expire the pointer to the newest dump.
BACKUP_BLOB_PREFIX = "backup_"
# The database PetClinic uses is the one the backup job dumps and `drctl restore` loads
# (seoul's drstack:rds.db_name, `portforge`): the stack passes that one name everywhere.
DEFAULT_DATABASE = "portforge"
PETCLINIC_PORT = 8080
HEALTH_PATH = "/actuator/health"
MAINTENANCE_POOL = "maintenance"
MAINTENANCE_STORAGE_ROLE = "maintenance-page"
PETCLINIC_POOL = "petclinic-web"
UBUNTU = compute.ImageReferenceArgs(
    publisher="Canonical", offer="ubuntu-24_04-lts", sku="server", version="latest"
)
PETCLINIC_REPO = "https://github.com/spring-projects/spring-petclinic.git"

MAINTENANCE_HTML = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>서비스 점검 중 / Under maintenance</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto;text-align:center">
<h1>서비스 점검 중입니다</h1>
<p>We are restoring the service in another region. Your data is safe; please try again
shortly.</p></body></html>
"""


@dataclass(frozen=True)
class SubnetPlan:
    app_gateway: str
    vms: str
    mysql: str
    restore: str
    web_ip: str
    was_ip: str


def plan_subnets(vnet_cidr: str) -> SubnetPlan:
    """Four /24s out of the VNet (config guarantees at least a /22), with fixed VM IPs.

    Fixed private IPs let nginx and the App Gateway pool name the VMs without reading an
    output of another resource; Azure reserves .0-.3 of every subnet, so .4/.5 are the first
    usable addresses.
    """
    nets = list(ipaddress.IPv4Network(vnet_cidr).subnets(new_prefix=24))
    vms = nets[1]
    return SubnetPlan(
        app_gateway=str(nets[0]),
        vms=str(vms),
        mysql=str(nets[2]),
        restore=str(nets[3]),
        web_ip=str(vms.network_address + 4),
        was_ip=str(vms.network_address + 5),
    )


@dataclass(kw_only=True)
class AzurePilotLightArgs:
    provider: azure_native.Provider
    location: str
    resource_group_name: str
    vnet_cidr: str
    # Globally unique, 3-24 lowercase alphanumerics (checked by config).
    storage_account_name: str
    maintenance_account_name: str
    # Global DNS name: <name>.mysql.database.azure.com.
    mysql_server_name: str
    # Global DNS name <name>.vault.azure.net: 3-24 letters, digits and hyphens.
    key_vault_name: str
    backup: BackupConfig
    azure: AzureConfig
    emergency: bool
    enable_petclinic: bool
    # A secret Output from `pulumi config set --secret`; required when emergency is on.
    mysql_admin_password: pulumi.Input[str] | None = None
    # The service host name (api.example.org) to register on the maintenance account, and
    # the resources (its asverify CNAME) that must exist before Azure validates it.
    maintenance_domain: str | None = None
    maintenance_domain_depends_on: Sequence[pulumi.Resource] = ()
    # Freeze the lifecycle rule (during a disaster the newest dump is the only copy).
    freeze_retention: bool = False
    # Public egress IPs of the backup job (the Seoul NAT gateway): the only internet
    # sources the backup account's firewall admits.
    backup_source_ips: Sequence[str] = ()
    # When the container SAS credentials expire (components.azure_backup_access).
    sas_expiry: str = "2000-01-01T00:00:00Z"
    dns_label: str = "drstack-pilot"
    # The database restored into MySQL and used by PetClinic (= the dumped database).
    database_name: str = DEFAULT_DATABASE
    # The certificate for the service name, imported into the Key Vault ahead of time.
    tls_certificate_name: str = "service-tls"
    # Public IPs allowed through the Key Vault firewall (to import the certificate).
    operator_ips: Sequence[str] = ()
    # Seed 001 phase 3 in the VNet: a one-shot `drctl restore` container (needs emergency).
    run_restore: bool = False
    # The drstack image (it carries drctl) the restore job runs.
    # The pinned backup image (config refuses run_restore without one).
    restore_image: str = ""
    tags: dict[str, str] = field(default_factory=dict)


class AzurePilotLight(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    storage_account_name: pulumi.Output[str]
    backup_container: pulumi.Output[str]
    # Container-scoped SAS connection strings (secrets); no account key leaves Azure.
    writer_connection_string: pulumi.Output[str]
    reader_connection_string: pulumi.Output[str]
    maintenance_host: pulumi.Output[str]
    vnet_id: pulumi.Output[str]
    mysql_server_fqdn: pulumi.Output[str] | None = None
    mysql_database_name: pulumi.Output[str] | None = None
    app_gateway_ip: pulumi.Output[str] | None = None
    app_gateway_fqdn: pulumi.Output[str] | None = None
    restore_job_name: pulumi.Output[str] | None = None
    routing_target: str

    def __init__(
        self, name: str, args: AzurePilotLightArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:azure_pilot_light:AzurePilotLight", name, None, opts)
        if args.enable_petclinic and not args.emergency:
            raise ValueError("enable_petclinic needs emergency: PetClinic runs on its VMs")
        if args.run_restore and not args.emergency:
            raise ValueError("run_restore needs emergency: it restores into the emergency MySQL")
        if args.emergency and args.mysql_admin_password is None:
            raise ValueError("emergency needs mysql_admin_password (a secret Output)")
        self._args = args
        self._name = name
        self._child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self._plan = plan_subnets(args.vnet_cidr)
        tags = args.tags

        rg = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=tags,
            opts=self._child,
        )
        self._rg = rg
        self._network(tags)
        self._tls = self._gateway_tls(tags)
        self._backup_storage(tags)
        self._maintenance_site(tags)

        self.routing_target = MAINTENANCE_POOL
        if args.emergency:
            self.routing_target = PETCLINIC_POOL if args.enable_petclinic else MAINTENANCE_POOL
            fqdn = self._mysql(tags)
            self._vms(fqdn, tags)
            self._app_gateway(tags)
            if args.run_restore:
                self._restore(fqdn, tags)

        outputs: dict[str, object] = {
            "resource_group_name": self.resource_group_name,
            "storage_account_name": self.storage_account_name,
            "backup_container": self.backup_container,
            "maintenance_host": self.maintenance_host,
            "routing_target": self.routing_target,
        }
        if args.emergency:
            outputs.update(
                mysql_server_fqdn=self.mysql_server_fqdn,
                app_gateway_ip=self.app_gateway_ip,
                app_gateway_fqdn=self.app_gateway_fqdn,
            )
        self.register_outputs(outputs)

    # ------------------------------------------------------------------ always on

    def _network(self, tags: dict[str, str]) -> None:
        name, plan, rg = self._name, self._plan, self._rg
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=f"{name}-vnet",
            resource_group_name=rg.name,
            location=self._args.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[self._args.vnet_cidr]),
            # Subnets are separate resources below and never also listed here: mixing the two
            # styles makes every VNet update rewrite (or delete) the other's subnets.
            tags=tags,
            opts=self._child,
        )
        self.vnet_id = vnet.id

        nsgs = self._security_groups(tags)

        # The App Gateway needs a subnet of its own: no VM, NIC or delegation may share it.
        # Its Key Vault service endpoint lets the vault's firewall admit the gateway.
        self._appgw_subnet = self._subnet(
            vnet, nsgs["appgw"], "appgw", plan.app_gateway, service_endpoints=["Microsoft.KeyVault"]
        )
        # New VNets no longer get implicit outbound internet; the VMs' cloud-init must reach
        # apt and GitHub, so outbound is asked for explicitly (a NAT gateway would cost more
        # than the whole recovery window). The storage service endpoint lets the backup
        # account's firewall admit this subnet (the restore runs here) by a VNet rule.
        self._vm_subnet = self._subnet(
            vnet,
            nsgs["vms"],
            "vms",
            plan.vms,
            default_outbound_access=True,
            service_endpoints=["Microsoft.Storage"],
        )
        # Flexible Server private access: a subnet delegated to MySQL and nothing else.
        self._mysql_subnet = self._subnet(
            vnet,
            nsgs["mysql"],
            "mysql",
            plan.mysql,
            delegations=[
                network.DelegationArgs(
                    name="mysql-flexible-server",
                    service_name="Microsoft.DBforMySQL/flexibleServers",
                )
            ],
        )
        # The restore job (ACI): a delegated subnet of its own, outbound for its image pull,
        # admitted by the backup account's firewall through the storage endpoint.
        self._restore_subnet = self._subnet(
            vnet,
            nsgs["restore"],
            "restore",
            plan.restore,
            default_outbound_access=True,
            delegations=[
                network.DelegationArgs(name="container-instances", service_name=RESTORE_DELEGATION)
            ],
            service_endpoints=["Microsoft.Storage"],
        )

    def _subnet(
        self,
        vnet: network.VirtualNetwork,
        nsg: network.NetworkSecurityGroup,
        role: str,
        prefix: str,
        default_outbound_access: bool | None = None,
        delegations: list[network.DelegationArgs] | None = None,
        service_endpoints: list[str] | None = None,
    ) -> network.Subnet:
        name, rg = self._name, self._rg
        return network.Subnet(
            f"{name}-{role}-subnet",
            subnet_name=role,
            resource_group_name=rg.name,
            virtual_network_name=vnet.name,
            address_prefix=prefix,
            network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
            default_outbound_access=default_outbound_access,
            delegations=delegations,
            service_endpoints=[
                network.ServiceEndpointPropertiesFormatArgs(service=service)
                for service in service_endpoints or []
            ]
            or None,
            opts=self._child,
        )

    def _security_groups(self, tags: dict[str, str]) -> dict[str, network.NetworkSecurityGroup]:
        name, rg = self._name, self._rg
        nsg_rules = _nsg_rules(self._plan)
        return {
            role: network.NetworkSecurityGroup(
                f"{name}-{role}-nsg",
                network_security_group_name=f"{name}-{role}-nsg",
                resource_group_name=rg.name,
                location=self._args.location,
                security_rules=rules,
                tags=tags,
                opts=self._child,
            )
            for role, rules in nsg_rules.items()
        }

    def _gateway_tls(self, tags: dict[str, str]) -> GatewayTls:
        args = self._args
        client = authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(provider=args.provider, parent=self)
        )
        self._client = client
        return gateway_tls(
            self._name,
            vault_name=args.key_vault_name,
            certificate_name=args.tls_certificate_name,
            location=args.location,
            resource_group_name=self._rg.name,
            tenant_id=client.tenant_id,
            subscription_id=client.subscription_id,
            gateway_subnet_id=self._appgw_subnet.id,
            operator_ips=args.operator_ips,
            tags=tags,
            opts=self._child,
        )

    def _backup_storage(self, tags: dict[str, str]) -> None:
        args, rg = self._args, self._rg
        account = self._backup_account(tags)
        container = self._backup_container(account)
        if args.backup.immutable_days > 0:
            self._backup_worm(account, container)
        self._backup_lifecycle(account)

        invoke = pulumi.InvokeOutputOptions(
            provider=args.provider, parent=self, depends_on=[container]
        )
        self.writer_connection_string, self.reader_connection_string = (
            container_sas(
                account_name=account.name,
                resource_group_name=rg.name,
                container=BACKUP_CONTAINER,
                permissions=permissions,
                expiry=args.sas_expiry,
                opts=invoke,
            )
            for permissions in (WRITER_PERMISSIONS, READER_PERMISSIONS)
        )
        self.resource_group_name = rg.name
        self.storage_account_name = account.name
        self.backup_container = container.name

    def _backup_account(self, tags: dict[str, str]) -> storage.StorageAccount:
        name, args, rg = self._name, self._args, self._rg
        return storage.StorageAccount(
            f"{name}-backups",
            account_name=args.storage_account_name,
            resource_group_name=rg.name,
            location=args.location,
            kind=storage.Kind.STORAGE_V2,
            # LRS, in a location outside the primary's metro (policy
            # azure-dr-site-outside-primary-metro): the dumps are themselves the off-site copy
            # of Seoul, so a Seoul disaster cannot take both. The default koreasouth (Busan)
            # keeps the data in Korea (seed 003) and has no availability zones, so ZRS/GZRS
            # do not exist there; GRS would pair it back to koreacentral, i.e. Seoul, for
            # twice the price.
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_LRS),
            # Hot, not Cool: a dump is written every few minutes and deleted after two weeks;
            # Cool's 30-day early-deletion charge and pricier writes cost more here.
            access_tier=storage.AccessTier.HOT,
            enable_https_traffic_only=True,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            # Needed to sign the container SAS below: the job and the restore get those,
            # never the key. (Entra ID for the job would need a workload-identity federation
            # trusted from the Seoul EKS OIDC issuer, and drctl support for it.)
            allow_shared_key_access=True,
            # Seoul uploads over the internet (seed 001: no VPN in Plan B), so the public
            # endpoint stays on, behind a firewall that admits only the job's egress IPs and
            # the VNet subnet the restore runs in (CKV_AZURE_59).
            public_network_access=storage.PublicNetworkAccess.ENABLED,
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY,
                # Trusted Azure services (Monitor, Backup) and logging/metrics stay possible.
                bypass="AzureServices, Logging, Metrics",
                ip_rules=[
                    storage.IPRuleArgs(i_p_address_or_range=ip, action=storage.Action.ALLOW)
                    for ip in args.backup_source_ips
                ],
                virtual_network_rules=[
                    storage.VirtualNetworkRuleArgs(
                        virtual_network_resource_id=subnet.id, action=storage.Action.ALLOW
                    )
                    for subnet in (self._vm_subnet, self._restore_subnet)
                ],
            ),
            tags=tags,
            opts=self._child,
        )

    def _backup_container(self, account: storage.StorageAccount) -> storage.BlobContainer:
        name, rg = self._name, self._rg
        blob_service = storage.BlobServiceProperties(
            f"{name}-backups-blob-service",
            account_name=account.name,
            resource_group_name=rg.name,
            blob_services_name="default",  # the only name Azure accepts
            is_versioning_enabled=True,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=7),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=7
            ),
            opts=self._child,
        )
        return storage.BlobContainer(
            f"{name}-backups-container",
            container_name=BACKUP_CONTAINER,
            account_name=account.name,
            resource_group_name=rg.name,
            public_access=storage.PublicAccess.NONE,
            # Version-level WORM support is fixed at container creation, so it is always on;
            # it protects nothing until the policy below exists. Unlike container-level WORM
            # it lets drctl overwrite its `latest` marker (the old version stays protected).
            immutable_storage_with_versioning=storage.ImmutableStorageWithVersioningArgs(
                enabled=True
            ),
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(depends_on=[blob_service])
            ),
        )

    def _backup_worm(
        self, account: storage.StorageAccount, container: storage.BlobContainer
    ) -> None:
        name, args, rg = self._name, self._args, self._rg
        # Left unlocked on purpose: locking is irreversible and belongs to a compliance
        # decision (`az storage container immutability-policy lock`), not to a deploy.
        storage.BlobContainerImmutabilityPolicy(
            f"{name}-backups-worm",
            account_name=account.name,
            resource_group_name=rg.name,
            container_name=container.name,
            immutability_policy_name="default",
            immutability_period_since_creation_in_days=args.backup.immutable_days,
            allow_protected_append_writes=False,
            opts=self._child,
        )

    def _backup_lifecycle(self, account: storage.StorageAccount) -> None:
        name, args, rg = self._name, self._args, self._rg
        retention = args.backup.retention_days
        storage.ManagementPolicy(
            f"{name}-backups-lifecycle",
            account_name=account.name,
            resource_group_name=rg.name,
            management_policy_name="default",  # the only name Azure accepts
            policy=storage.ManagementPolicySchemaArgs(
                rules=[
                    storage.ManagementPolicyRuleArgs(
                        name="expire-mysql-backups",
                        type=storage.RuleType.LIFECYCLE,
                        # A timer does not know the newest dump is the only copy left once
                        # Seoul is down: the rule is paused while failed over.
                        enabled=not args.freeze_retention,
                        definition=storage.ManagementPolicyDefinitionArgs(
                            filters=storage.ManagementPolicyFilterArgs(
                                blob_types=["blockBlob"],
                                prefix_match=[f"{BACKUP_CONTAINER}/{BACKUP_BLOB_PREFIX}"],
                            ),
                            actions=storage.ManagementPolicyActionArgs(
                                base_blob=storage.ManagementPolicyBaseBlobArgs(
                                    delete=storage.DateAfterModificationArgs(
                                        days_after_modification_greater_than=retention
                                    )
                                ),
                                # With versioning on, a delete only makes the dump a previous
                                # version; without these it would be billed forever.
                                version=storage.ManagementPolicyVersionArgs(
                                    delete=storage.DateAfterCreationArgs(
                                        days_after_creation_greater_than=retention
                                    )
                                ),
                                snapshot=storage.ManagementPolicySnapShotArgs(
                                    delete=storage.DateAfterCreationArgs(
                                        days_after_creation_greater_than=retention
                                    )
                                ),
                            ),
                        ),
                    )
                ]
            ),
            opts=self._child,
        )

    def _maintenance_site(self, tags: dict[str, str]) -> None:
        """The maintenance page, served by Azure Storage itself: phase 1 needs no VM.

        A separate account, because a storage custom domain is served over HTTP only and an
        HTTPS-only account refuses it; the backups keep their HTTPS-only account and never
        share an account with public content. (HTTPS on the service name would need Front
        Door, ~$35/month, beyond the pilot-light budget.)
        """
        name, args, rg = self._name, self._args, self._rg
        domain = None
        depends: list[pulumi.Resource] = []
        if args.maintenance_domain:
            # Registered through asverify.<name>, because the service name itself only
            # points at Azure after a failover: direct CNAME validation would fail.
            domain = storage.CustomDomainArgs(
                name=args.maintenance_domain, use_sub_domain_name=True
            )
            depends = list(args.maintenance_domain_depends_on)
        account = storage.StorageAccount(
            f"{name}-maintenance",
            account_name=args.maintenance_account_name,
            resource_group_name=rg.name,
            location=args.location,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_LRS),
            access_tier=storage.AccessTier.HOT,
            # Custom domains on storage are HTTP only (see docstring); the account holds one
            # public page and nothing else.
            enable_https_traffic_only=False,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            # The static website endpoint serves $web without public blob access.
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            custom_domain=domain,
            # Policy azure-storage-secure allows HTTP only on an account with this role
            # and a custom domain (the one case Azure cannot serve over HTTPS).
            tags={**tags, "StorageRole": MAINTENANCE_STORAGE_ROLE},
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(depends_on=depends)
            ),
        )
        website = storage.StorageAccountStaticWebsite(
            f"{name}-maintenance-website",
            account_name=account.name,
            resource_group_name=rg.name,
            index_document="index.html",
            # Every path of the service answers with the maintenance page.
            error404_document="index.html",
            opts=self._child,
        )
        storage.Blob(
            f"{name}-maintenance-page",
            account_name=account.name,
            resource_group_name=rg.name,
            # Always "$web"; named here because the website's output is unknown until it
            # exists, and the explicit dependency keeps the upload after its creation.
            container_name="$web",
            blob_name="index.html",
            content_type="text/html; charset=utf-8",
            source=pulumi.StringAsset(MAINTENANCE_HTML),
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(depends_on=[website])
            ),
        )
        self.maintenance_host = account.primary_endpoints.apply(
            lambda ep: ep.web.removeprefix("https://").rstrip("/")
        )

    # ------------------------------------------------------------------ emergency

    def _mysql(self, tags: dict[str, str]) -> pulumi.Output[str]:
        name, args, rg, azure = self._name, self._args, self._rg, self._args.azure
        zone, link = self._mysql_private_dns(tags)
        admin_password: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.from_input(args.mysql_admin_password or "")
        )
        server = dbformysql.Server(
            f"{name}-mysql",
            server_name=args.mysql_server_name,
            resource_group_name=rg.name,
            location=args.location,
            version=azure.mysql_version,
            sku=dbformysql.MySQLServerSkuArgs(name=azure.mysql_sku, tier=azure.mysql_tier),
            administrator_login=azure.admin_username,
            administrator_login_password=admin_password,
            storage=dbformysql.StorageArgs(
                storage_size_gb=azure.mysql_storage_gb, auto_grow="Enabled"
            ),
            backup=dbformysql.BackupArgs(
                backup_retention_days=azure.mysql_backup_retention_days,
                geo_redundant_backup="Disabled",
            ),
            high_availability=dbformysql.HighAvailabilityArgs(mode="Disabled"),
            network=dbformysql.NetworkArgs(
                delegated_subnet_resource_id=self._mysql_subnet.id,
                private_dns_zone_resource_id=zone.id,
                public_network_access="Disabled",
            ),
            tags=tags,
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(depends_on=[link])
            ),
        )
        database = dbformysql.Database(
            f"{name}-mysql-database",
            database_name=args.database_name,
            server_name=server.name,
            resource_group_name=rg.name,
            charset="utf8mb4",
            collation="utf8mb4_0900_ai_ci",
            opts=self._child,
        )
        # Flexible Server always logs binary, and its admin has no SUPER: with the
        # default OFF, the restore's CREATE FUNCTION/TRIGGER fails with ERROR 1419
        # (https://dev.mysql.com/doc/refman/8.0/en/stored-programs-logging.html;
        # https://learn.microsoft.com/azure/mysql/flexible-server/how-to-troubleshoot-common-errors).
        trust_routines = dbformysql.Configuration(
            f"{name}-mysql-log-bin-trust-function-creators",
            configuration_name="log_bin_trust_function_creators",
            resource_group_name=rg.name,
            server_name=server.name,
            value="ON",
            source=dbformysql.ConfigurationSource.USER_OVERRIDE,
            opts=self._child,
        )
        self.mysql_server_fqdn = server.fully_qualified_domain_name
        self.mysql_database_name = database.name
        self._mysql_database = database
        self._mysql_ready: list[pulumi.Resource] = [database, trust_routines]
        return server.fully_qualified_domain_name

    def _mysql_private_dns(
        self, tags: dict[str, str]
    ) -> tuple[privatedns.PrivateZone, privatedns.VirtualNetworkLink]:
        name, args, rg = self._name, self._args, self._rg
        # Private access: the server gets no public endpoint at all. It needs the delegated
        # subnet *and* a private DNS zone named *.mysql.database.azure.com linked to the VNet,
        # or creation fails; `drctl restore` therefore runs from inside the VNet (the WAS VM).
        zone = privatedns.PrivateZone(
            f"{name}-mysql-dns",
            private_zone_name=f"{args.mysql_server_name}.private.mysql.database.azure.com",
            resource_group_name=rg.name,
            location="global",
            tags=tags,
            opts=self._child,
        )
        link = privatedns.VirtualNetworkLink(
            f"{name}-mysql-dns-link",
            virtual_network_link_name=f"{name}-vnet",
            private_zone_name=zone.name,
            resource_group_name=rg.name,
            location="global",
            registration_enabled=False,
            virtual_network=privatedns.SubResourceArgs(id=self.vnet_id),
            tags=tags,
            opts=self._child,
        )
        return zone, link

    def _restore(self, mysql_fqdn: pulumi.Output[str], tags: dict[str, str]) -> None:
        args = self._args
        job = restore_job(
            self._name,
            image=args.restore_image,
            location=args.location,
            resource_group_name=self._rg.name,
            subnet_id=self._restore_subnet.id,
            database=args.database_name,
            container=BACKUP_CONTAINER,
            # The archive the backup stack writes (binlog-archive-agrees keeps both stacks'
            # backup.binlog_archive equal): replay it, or the RPO is a whole dump interval.
            binlog_archive=args.backup.binlog_archive,
            accept_gap=args.backup.restore_accept_gap,
            admin_user=args.azure.admin_username,
            admin_password=pulumi.Output.from_input(args.mysql_admin_password or ""),
            mysql_fqdn=mysql_fqdn,
            reader_connection_string=self.reader_connection_string,
            tags=tags,
            opts=self._child,
            # The database must exist, routines must be creatable (log_bin_trust_function_
            # creators), and the private DNS zone must resolve first.
            depends_on=self._mysql_ready,
        )
        self.restore_job_name = job.name

    def _vms(self, mysql_fqdn: pulumi.Output[str], tags: dict[str, str]) -> None:
        args, plan, azure = self._args, self._plan, self._args.azure
        password = pulumi.Output.from_input(args.mysql_admin_password or "")
        # The rendered cloud-init carries the DB password: keep the whole thing secret.
        was_init: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(mysql_fqdn, password).apply(
                lambda v: _b64(
                    was_cloud_init(
                        mysql_host=str(v[0]),
                        user=azure.admin_username,
                        password=str(v[1]),
                        jar_url=azure.petclinic_jar_url,
                        database=args.database_name,
                    )
                )
            )
        )
        self._vm("web", azure.web_vm_size, plan.web_ip, _b64(web_cloud_init(plan.was_ip)), tags)
        self._vm("was", azure.was_vm_size, plan.was_ip, was_init, tags)

    def _vm(
        self, role: str, size: str, ip: str, custom_data: pulumi.Input[str], tags: dict[str, str]
    ) -> None:
        name, args, rg = self._name, self._args, self._rg
        nic = network.NetworkInterface(
            f"{name}-{role}-nic",
            network_interface_name=f"{name}-{role}-nic",
            resource_group_name=rg.name,
            location=args.location,
            ip_configurations=[
                network.NetworkInterfaceIPConfigurationArgs(
                    name="primary",
                    primary=True,
                    subnet=network.SubnetArgs(id=self._vm_subnet.id),
                    private_ip_allocation_method=network.IPAllocationMethod.STATIC,
                    private_ip_address=ip,
                )
            ],
            tags=tags,
            opts=self._child,
        )
        compute.VirtualMachine(
            f"{name}-{role}-vm",
            vm_name=f"{name}-{role}",
            resource_group_name=rg.name,
            location=args.location,
            hardware_profile=compute.HardwareProfileArgs(vm_size=size),
            os_profile=compute.OSProfileArgs(
                computer_name=f"{role}",
                admin_username=args.azure.admin_username,
                # Custom data is only read at first boot; changing it replaces the VM.
                custom_data=custom_data,
                linux_configuration=compute.LinuxConfigurationArgs(
                    disable_password_authentication=True,
                    ssh=compute.SshConfigurationArgs(
                        public_keys=[
                            compute.SshPublicKeyArgs(
                                path=f"/home/{args.azure.admin_username}/.ssh/authorized_keys",
                                key_data=args.azure.ssh_public_key,
                            )
                        ]
                    ),
                ),
            ),
            storage_profile=compute.StorageProfileArgs(
                image_reference=UBUNTU,
                os_disk=compute.OSDiskArgs(
                    create_option=compute.DiskCreateOptionTypes.FROM_IMAGE,
                    managed_disk=compute.ManagedDiskParametersArgs(
                        storage_account_type=compute.StorageAccountTypes.STANDARD_SS_D_LRS
                    ),
                    # Failback deletes the VM; its disk must not linger and keep billing.
                    delete_option=compute.DiskDeleteOptionTypes.DELETE,
                ),
            ),
            network_profile=compute.NetworkProfileArgs(
                network_interfaces=[
                    compute.NetworkInterfaceReferenceArgs(
                        id=nic.id, primary=True, delete_option=compute.DeleteOptions.DETACH
                    )
                ]
            ),
            security_profile=compute.SecurityProfileArgs(
                security_type=compute.SecurityTypes.TRUSTED_LAUNCH,
                uefi_settings=compute.UefiSettingsArgs(
                    secure_boot_enabled=True, v_tpm_enabled=True
                ),
            ),
            tags={**tags, "Role": role},
            opts=self._child,
        )

    # Long but one request: an Application Gateway's listeners, pools, probes and rules are
    # sub-resources of a single ARM resource that reference each other by ID, so they are
    # declared together in the one call that creates it.
    # long: one ARM request, its sub-resources reference each other by ID
    def _app_gateway(self, tags: dict[str, str]) -> None:
        name, args, rg, plan = self._name, self._args, self._rg, self._plan
        gw_name = f"{name}-appgw"
        # Standard_v2 needs a Standard-SKU static IP. The DNS label gives Route 53 a host name
        # to CNAME to: a failover pair must share one record type, and the Seoul primary is a
        # CNAME, so the secondary cannot be an A record.
        public_ip = network.PublicIPAddress(
            f"{name}-appgw-ip",
            public_ip_address_name=f"{name}-appgw-ip",
            resource_group_name=rg.name,
            location=args.location,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method=network.IPAllocationMethod.STATIC,
            public_ip_address_version=network.IPVersion.I_PV4,
            dns_settings=network.PublicIPAddressDnsSettingsArgs(domain_name_label=args.dns_label),
            tags=tags,
            opts=self._child,
        )
        client = self._client
        # Sub-resources of a gateway reference each other by ID inside the same request.
        gw_id = pulumi.Output.concat(
            "/subscriptions/",
            client.subscription_id,
            "/resourceGroups/",
            rg.name,
            "/providers/Microsoft.Network/applicationGateways/",
            gw_name,
        )

        def ref(kind: str, item: str) -> network.SubResourceArgs:
            return network.SubResourceArgs(id=pulumi.Output.concat(gw_id, f"/{kind}/{item}"))

        target_pool = PETCLINIC_POOL if args.enable_petclinic else MAINTENANCE_POOL
        target_settings = "petclinic-http" if args.enable_petclinic else "maintenance-https"
        gateway = network.ApplicationGateway(
            f"{name}-appgw",
            application_gateway_name=gw_name,
            resource_group_name=rg.name,
            location=args.location,
            sku=network.ApplicationGatewaySkuArgs(name="Standard_v2", tier="Standard_v2"),
            # Scale to the load of a recovery, starting small: v2 bills per capacity unit.
            autoscale_configuration=network.ApplicationGatewayAutoscaleConfigurationArgs(
                min_capacity=1, max_capacity=2
            ),
            gateway_ip_configurations=[
                network.ApplicationGatewayIPConfigurationArgs(
                    name="gateway", subnet=network.SubResourceArgs(id=self._appgw_subnet.id)
                )
            ],
            frontend_ip_configurations=[
                network.ApplicationGatewayFrontendIPConfigurationArgs(
                    name="public", public_ip_address=network.SubResourceArgs(id=public_ip.id)
                )
            ],
            # HTTPS with the service name's certificate from Key Vault; port 80 only redirects.
            identity=network.ManagedServiceIdentityArgs(
                type=network.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[self._tls.identity_id],
            ),
            ssl_certificates=[
                network.ApplicationGatewaySslCertificateArgs(
                    name="service", key_vault_secret_id=self._tls.secret_id
                )
            ],
            # Minimum TLS 1.2 (the default policy of older API versions allows TLS 1.0).
            ssl_policy=network.ApplicationGatewaySslPolicyArgs(
                policy_type="Predefined", policy_name="AppGwSslPolicy20220101S"
            ),
            frontend_ports=[
                network.ApplicationGatewayFrontendPortArgs(name="http", port=80),
                network.ApplicationGatewayFrontendPortArgs(name="https", port=443),
            ],
            backend_address_pools=[
                network.ApplicationGatewayBackendAddressPoolArgs(
                    name=MAINTENANCE_POOL,
                    backend_addresses=[
                        network.ApplicationGatewayBackendAddressArgs(fqdn=self.maintenance_host)
                    ],
                ),
                network.ApplicationGatewayBackendAddressPoolArgs(
                    name=PETCLINIC_POOL,
                    backend_addresses=[
                        network.ApplicationGatewayBackendAddressArgs(ip_address=plan.web_ip)
                    ],
                ),
            ],
            probes=[
                network.ApplicationGatewayProbeArgs(
                    name="petclinic-health",
                    protocol="Http",
                    host="127.0.0.1",
                    path=HEALTH_PATH,
                    interval=15,
                    timeout=10,
                    unhealthy_threshold=3,
                    match=network.ApplicationGatewayProbeHealthResponseMatchArgs(
                        status_codes=["200-399"]
                    ),
                ),
                network.ApplicationGatewayProbeArgs(
                    name="maintenance-health",
                    protocol="Https",
                    path="/",
                    interval=30,
                    timeout=10,
                    unhealthy_threshold=3,
                    pick_host_name_from_backend_http_settings=True,
                ),
            ],
            backend_http_settings_collection=[
                network.ApplicationGatewayBackendHttpSettingsArgs(
                    name="petclinic-http",
                    port=80,
                    protocol="Http",
                    cookie_based_affinity="Disabled",
                    request_timeout=60,
                    probe=ref("probes", "petclinic-health"),
                ),
                network.ApplicationGatewayBackendHttpSettingsArgs(
                    name="maintenance-https",
                    port=443,
                    protocol="Https",
                    cookie_based_affinity="Disabled",
                    request_timeout=30,
                    # Azure Storage routes by Host header: it must be the account's own name.
                    pick_host_name_from_backend_address=True,
                    probe=ref("probes", "maintenance-health"),
                ),
            ],
            http_listeners=[
                network.ApplicationGatewayHttpListenerArgs(
                    name="https",
                    protocol="Https",
                    frontend_ip_configuration=ref("frontendIPConfigurations", "public"),
                    frontend_port=ref("frontendPorts", "https"),
                    ssl_certificate=ref("sslCertificates", "service"),
                ),
                network.ApplicationGatewayHttpListenerArgs(
                    name="http",
                    protocol="Http",
                    frontend_ip_configuration=ref("frontendIPConfigurations", "public"),
                    frontend_port=ref("frontendPorts", "http"),
                ),
            ],
            redirect_configurations=[
                network.ApplicationGatewayRedirectConfigurationArgs(
                    name="http-to-https",
                    redirect_type="Permanent",
                    target_listener=ref("httpListeners", "https"),
                    include_path=True,
                    include_query_string=True,
                )
            ],
            request_routing_rules=[
                network.ApplicationGatewayRequestRoutingRuleArgs(
                    name="service",
                    rule_type="Basic",
                    # Required since API 2021-08-01 for v2 gateways.
                    priority=100,
                    http_listener=ref("httpListeners", "https"),
                    backend_address_pool=ref("backendAddressPools", target_pool),
                    backend_http_settings=ref("backendHttpSettingsCollection", target_settings),
                ),
                network.ApplicationGatewayRequestRoutingRuleArgs(
                    name="redirect-http",
                    rule_type="Basic",
                    priority=200,
                    http_listener=ref("httpListeners", "http"),
                    redirect_configuration=ref("redirectConfigurations", "http-to-https"),
                ),
            ],
            tags=tags,
            # The identity must hold its role on the vault before the listener loads the
            # certificate, or the deployment fails.
            opts=pulumi.ResourceOptions.merge(
                self._child,
                pulumi.ResourceOptions(depends_on=[self._tls.role_assignment]),
            ),
        )
        del gateway
        self.app_gateway_ip = public_ip.ip_address.apply(lambda ip: ip or "")
        self.app_gateway_fqdn = public_ip.dns_settings.apply(
            lambda dns: (
                (dns.fqdn if dns and dns.fqdn else "")
                or f"{args.dns_label}.{args.location}.cloudapp.azure.com"
            )
        )


# --------------------------------------------------------------------------- cloud-init


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def web_cloud_init(was_ip: str) -> str:
    """nginx in front of PetClinic: the App Gateway probes /actuator/health through it."""
    return textwrap.dedent(
        f"""\
        #cloud-config
        package_update: true
        packages: [nginx]
        write_files:
          - path: /etc/nginx/sites-available/default
            content: |
              server {{
                listen 80 default_server;
                location / {{
                  proxy_pass http://{was_ip}:{PETCLINIC_PORT};
                  proxy_set_header Host $host;
                  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                  proxy_set_header X-Forwarded-Proto $scheme;
                  proxy_read_timeout 60s;
                }}
              }}
        runcmd:
          - systemctl enable --now nginx
          - systemctl reload nginx
        """
    )


def was_cloud_init(
    *, mysql_host: str, user: str, password: str, jar_url: str, database: str
) -> str:
    """PetClinic as a systemd service on the `mysql` profile, talking TLS to Flexible Server.

    The password lives in a root-only environment file, never in the unit or the command
    line. With no jar URL the VM builds spring-petclinic from source (about 5 minutes).
    """
    fetch = (
        f"curl -fsSL -o /opt/petclinic/petclinic.jar {jar_url}"
        if jar_url
        else (
            f"git clone --depth 1 {PETCLINIC_REPO} /opt/petclinic/src && "
            "cd /opt/petclinic/src && ./mvnw -q -DskipTests package && "
            "cp target/*.jar /opt/petclinic/petclinic.jar"
        )
    )
    jdbc = f"jdbc:mysql://{mysql_host}:3306/{database}?sslMode=REQUIRED"
    return textwrap.dedent(
        f"""\
        #cloud-config
        package_update: true
        packages: [openjdk-17-jdk-headless, git, curl, mysql-client]
        write_files:
          - path: /etc/petclinic.env
            permissions: "0600"
            owner: root:root
            content: |
              SPRING_PROFILES_ACTIVE=mysql
              MYSQL_URL={jdbc}
              MYSQL_USER={user}
              MYSQL_PASS={password}
          - path: /etc/systemd/system/petclinic.service
            content: |
              [Unit]
              Description=Spring PetClinic (drstack pilot light)
              After=network-online.target
              Wants=network-online.target
              [Service]
              EnvironmentFile=/etc/petclinic.env
              ExecStart=/usr/bin/java -jar /opt/petclinic/petclinic.jar --server.port={PETCLINIC_PORT}
              User=petclinic
              Restart=on-failure
              RestartSec=10
              [Install]
              WantedBy=multi-user.target
        runcmd:
          - useradd --system --home /opt/petclinic --shell /usr/sbin/nologin petclinic || true
          - mkdir -p /opt/petclinic
          - bash -c '{fetch}'
          - chown -R petclinic /opt/petclinic
          - systemctl daemon-reload
          - systemctl enable --now petclinic
        """
    )


def _inbound_rule(
    rule_name: str,
    priority: int,
    source: str,
    ports: str | list[str],
    access: str = "Allow",
) -> network.SecurityRuleArgs:
    single, many = (None, ports) if isinstance(ports, list) else (ports, None)
    return network.SecurityRuleArgs(
        name=rule_name,
        priority=priority,
        direction="Inbound",
        access=access,
        protocol="*" if ports == "*" else "Tcp",
        source_address_prefix=source,
        source_port_range="*",
        destination_address_prefix="*",
        destination_port_range=single,
        destination_port_ranges=many,
    )


def _nsg_rules(plan: SubnetPlan) -> dict[str, list[network.SecurityRuleArgs]]:
    # Deny the rest of the VNet explicitly: Azure's default AllowVnetInBound (65000) would
    # otherwise let any subnet reach any port.
    deny_vnet = _inbound_rule("deny-other-vnet", 4000, "VirtualNetwork", "*", access="Deny")
    return {
        "appgw": [
            # App Gateway v2 refuses to deploy unless its control plane reaches
            # 65200-65535 from the GatewayManager service tag.
            _inbound_rule("allow-gateway-manager", 100, "GatewayManager", "65200-65535"),
            _inbound_rule("allow-azure-lb", 110, "AzureLoadBalancer", "*"),
            _inbound_rule("allow-http", 120, "Internet", ["80", "443"]),
        ],
        "vms": [
            _inbound_rule("allow-appgw-to-web", 100, plan.app_gateway, "80"),
            _inbound_rule("allow-web-to-was", 110, plan.vms, str(PETCLINIC_PORT)),
            _inbound_rule("allow-azure-lb", 120, "AzureLoadBalancer", "*"),
            deny_vnet,
        ],
        "mysql": [
            _inbound_rule("allow-vms-to-mysql", 100, plan.vms, "3306"),
            _inbound_rule("allow-restore-to-mysql", 110, plan.restore, "3306"),
            deny_vnet,
        ],
        # The restore job only connects out (MySQL, blob storage, its image registry).
        "restore": [deny_vnet],
    }
