"""Where backups live: an Azure Blob container, from a connection string or the outputs file.

The connection string is a secret: it comes from ``AZURE_STORAGE_CONNECTION_STRING``
(never a command-line flag, which ``ps`` would show) and is never printed. For the
local sandbox the outputs file names an Azurite endpoint; Azurite's account key is the
public, documented development key, so nothing secret is stored there either.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from drctl.pilotlight.blob_sdk import BlobServiceClient, ContainerClient, ExponentialRetry
from drctl.stack_outputs import StackOutputs

CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
DEFAULT_CONTAINER = "mysql-backups"  # seed 001
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented by Microsoft).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class StorageConfigError(ValueError):
    """No usable storage location; the message says which input is missing."""


def azurite_connection_string(blob_endpoint: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={blob_endpoint};"
    )


def resolve_container(
    *, container: str | None, outputs: StackOutputs | None, stack: str = "azure-pilot"
) -> tuple[str, str]:
    """(connection string, container name) from the environment and the stack outputs."""
    stack_outputs: dict[str, Any] = (
        outputs.stack(stack) if outputs is not None and outputs.has(stack) else {}
    )
    name = container or stack_outputs.get("backup_container") or DEFAULT_CONTAINER
    connection_string = os.environ.get(CONNECTION_STRING_ENV, "")
    if not connection_string and stack_outputs.get("blob_endpoint"):
        if stack_outputs.get("storage_account_name") != AZURITE_ACCOUNT:
            raise StorageConfigError(
                f"outputs name account {stack_outputs.get('storage_account_name')!r}; "
                f"set {CONNECTION_STRING_ENV} for it"
            )
        connection_string = azurite_connection_string(str(stack_outputs["blob_endpoint"]))
    if not connection_string:
        raise StorageConfigError(
            f"no blob storage: set {CONNECTION_STRING_ENV} or pass --outputs with an "
            f"'{stack}' entry"
        )
    return connection_string, str(name)


def open_container(
    connection_string: str, name: str, *, create: bool = False, retries: int = 2
) -> ContainerClient:
    # Few, quick retries: a backup that cannot reach storage should fail within seconds
    # and let the next scheduled run try again, not hang for minutes. (The storage
    # SDK's default policy starts backing off at 15 s; with a 60 s read timeout and 3
    # retries a silent endpoint held a command for ~260 s.) Worst case per call here:
    # 3 attempts x (5 s connect + 20 s read) + backoff; the command's --timeout caps
    # the total anyway.
    service = BlobServiceClient.from_connection_string(
        connection_string,
        retry_policy=ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=retries),
        connection_timeout=5,
        read_timeout=20,
        # The SDK's first GET is 32 MiB by default; 4 MiB pieces keep restores' memory flat.
        max_single_get_size=4 << 20,
        max_chunk_get_size=4 << 20,
    )
    container = service.get_container_client(name)
    if create and not container_exists(container):
        with contextlib.suppress(ResourceExistsError):  # created meanwhile: fine
            container.create_container()
    return container


def container_exists(container: ContainerClient) -> bool:
    """Whether the container exists, asked the way a container-scoped SAS may ask.

    Not `create_container()` and catch 409: Create Container is an account-level right,
    so with the backup job's container-scoped SAS Azure answers 403 AuthorizationFailure
    even when the container exists. Not `exists()` either: a container SAS cannot grant
    reading container properties (ContainerSasPermissions, azure-storage-blob docs).
    List Blobs it can (permission `l`, which both backup SAS carry): one page of at most
    one name, 404 ContainerNotFound when the container is missing.
    """
    try:
        next(container.list_blobs(results_per_page=1).by_page(), None)
    except ResourceNotFoundError:
        return False
    return True
