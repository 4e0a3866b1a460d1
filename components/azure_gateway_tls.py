"""The Application Gateway's TLS certificate: a Key Vault, an identity that may read it.

Always on (both free at rest: Key Vault Standard bills per operation, a user-assigned
identity and a role assignment cost nothing), because the certificate must be in the
vault *before* a disaster: phase 2 has no time to buy and validate one. The operator
imports the certificate for the service name once (``az keyvault certificate import
--vault-name <vault> -n <certificate_name> -f service.pfx``, from an address in
``azure.operator_ips``); the gateway references it by its versionless secret ID, so a
renewed certificate is picked up without a deploy.

Azure's rules (learn.microsoft.com/azure/application-gateway/key-vault-certs):
- Key Vault certificates need Application Gateway v2 and a *user-assigned* identity on the
  gateway that can read the secret (RBAC role Key Vault Secrets User on the vault);
- a vault behind its firewall must admit the gateway's subnet (service endpoint
  Microsoft.KeyVault on that subnet plus a VNet rule), or the listener fails to load the
  certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, keyvault, managedidentity

# Built-in role "Key Vault Secrets User": read secret contents (a certificate's PFX is
# exposed as a secret), nothing else.
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


@dataclass(frozen=True)
class GatewayTls:
    vault_name: str
    identity_id: pulumi.Output[str]
    # Versionless: the gateway polls Key Vault and picks up a renewed certificate.
    secret_id: str
    role_assignment: authorization.RoleAssignment


def gateway_tls(
    name: str,
    *,
    vault_name: str,
    certificate_name: str,
    location: str,
    resource_group_name: pulumi.Input[str],
    tenant_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    gateway_subnet_id: pulumi.Input[str],
    operator_ips: Sequence[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> GatewayTls:
    vault = keyvault.Vault(
        f"{name}-vault",
        vault_name=vault_name,
        resource_group_name=resource_group_name,
        location=location,
        properties=keyvault.VaultPropertiesArgs(
            tenant_id=tenant_id,
            sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
            # RBAC, not access policies: one role assignment scoped to this vault.
            enable_rbac_authorization=True,
            enable_soft_delete=True,
            soft_delete_retention_in_days=90,
            # The certificate is the one thing phase 2 cannot recreate in minutes.
            enable_purge_protection=True,
            network_acls=keyvault.NetworkRuleSetArgs(
                default_action=keyvault.NetworkRuleAction.DENY,
                bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                virtual_network_rules=[keyvault.VirtualNetworkRuleArgs(id=gateway_subnet_id)],
                ip_rules=[keyvault.IPRuleArgs(value=ip) for ip in operator_ips],
            ),
        ),
        tags=tags,
        opts=opts,
    )
    identity = managedidentity.UserAssignedIdentity(
        f"{name}-identity",
        resource_name_=f"{name}-appgw-identity",
        resource_group_name=resource_group_name,
        location=location,
        tags=tags,
        opts=opts,
    )
    role = authorization.RoleAssignment(
        f"{name}-secrets-user",
        principal_id=identity.principal_id,
        # Without it Azure tries to resolve the new principal in Entra ID and may fail
        # with PrincipalNotFound while the identity is still replicating.
        principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
        role_definition_id=pulumi.Output.concat(
            "/subscriptions/",
            subscription_id,
            "/providers/Microsoft.Authorization/roleDefinitions/",
            KEY_VAULT_SECRETS_USER,
        ),
        scope=vault.id,
        opts=opts,
    )
    return GatewayTls(
        vault_name=vault_name,
        identity_id=identity.id,
        secret_id=f"https://{vault_name}.vault.azure.net/secrets/{certificate_name}",
        role_assignment=role,
    )
