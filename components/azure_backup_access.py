"""Container-scoped SAS credentials for the pilot-light backup container.

Neither the backup job nor `drctl restore` gets the storage account key: a key opens every
container, queue and table of the account and can only be revoked by rotating it for
everyone. Each gets a *service* SAS instead, signed for the `mysql-backups` container
only, HTTPS only, with the permissions its job needs:
- the writer (the backup job in Seoul): read the `latest` marker, create/write dumps,
  list them and delete the ones past retention (`rcwdl`);
- the reader (`drctl restore` inside the Azure VNet): read and list (`rl`).

A container-level service SAS cannot create the container itself (that is an
account-level operation): the container is declared by the stack, so the job must not
try to create it.

Expiry: ARM's listServiceSas needs one, and a SAS that does not expire is a credential
that cannot be revoked short of a key rotation. The expiry follows the calendar quarter
(see :func:`sas_expiry`), so any `pulumi up` of the stack in a new quarter renews it;
the quarterly DR test (seed 000) includes that `pulumi up`. Without it the SAS still
lives at least three more months.
"""

from __future__ import annotations

from datetime import date

import pulumi
from pulumi_azure_native import storage

WRITER_PERMISSIONS = "rcwdl"
READER_PERMISSIONS = "rl"


def sas_expiry(today: date) -> str:
    """The start of the quarter after next (UTC midnight): 3 to 6 months of validity.

    Stable within a quarter, so previews do not show a new credential every day.
    """
    quarter_start_month = 3 * ((today.month - 1) // 3) + 1
    months = today.year * 12 + (quarter_start_month - 1) + 6
    return f"{months // 12:04d}-{months % 12 + 1:02d}-01T00:00:00Z"


def sas_connection_string(account_name: str, sas_token: str) -> str:
    """A connection string the Azure SDKs accept (``from_connection_string``), carrying
    the SAS and no account key."""
    return (
        f"BlobEndpoint=https://{account_name}.blob.core.windows.net/;"
        f"SharedAccessSignature={sas_token.lstrip('?')}"
    )


def container_sas(
    *,
    account_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    container: str,
    permissions: str,
    expiry: str,
    opts: pulumi.InvokeOutputOptions,
) -> pulumi.Output[str]:
    """A secret connection string holding a service SAS for one blob container."""
    sas = storage.list_storage_account_service_sas_output(
        account_name=account_name,
        resource_group_name=resource_group_name,
        canonicalized_resource=pulumi.Output.concat("/blob/", account_name, "/", container),
        resource=storage.SignedResource.C,
        permissions=permissions,
        protocols=storage.HttpProtocol.HTTPS,
        shared_access_expiry_time=expiry,
        opts=opts,
    )
    return pulumi.Output.secret(
        pulumi.Output.all(account_name, sas.service_sas_token).apply(
            lambda parts: sas_connection_string(str(parts[0]), str(parts[1]))
        )
    )
