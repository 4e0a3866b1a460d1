"""Seed 001 phase 3 inside Azure: `drctl restore` as a one-shot container in the VNet.

The Flexible Server has private access only (no public endpoint, DNS only inside the
linked VNet), so the restore must run in the VNet. An Azure Container Instances group in
the spare, ACI-delegated subnet does it with the same drstack image the backup job runs:
no SSH to a VM, no tool installed by hand, billed per second while it runs.

- It runs once when created (restart policy Never). To run it again:
  `az container start -g <resource group> -n <name>`; its JSON result is in
  `az container logs`.
- The target DSN (admin password) and the read-only container SAS are *secure*
  environment variables: ACI never returns them in the group's properties.
- Reading the blobs goes through the storage firewall's VNet rule for this subnet.
- With the binlog archive on (`backup.binlog_archive`) it restores the newest dump *and*
  replays the archived binlog after it (`--to-latest`): the archive is what brings the
  RPO down to one flush interval, and a job that loads the dump alone throws it away.
  A gap or corrupt segment stops the job before the target is touched (exit 3), unless
  the operator chose `backup.restore_accept_gap` (restore up to the last consistent
  point, `--accept-gap`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence

import pulumi
from pulumi_azure_native import containerinstance

RESTORE_DELEGATION = "Microsoft.ContainerInstance/containerGroups"


def restore_command(
    *, database: str, container: str, binlog_archive: bool, accept_gap: bool = False
) -> list[str]:
    """The container's command line; the sandbox drill runs exactly this one too.

    No credential on the command line: drctl reads DRCTL_TARGET_DSN and
    AZURE_STORAGE_CONNECTION_STRING from the environment.
    """
    if accept_gap and not binlog_archive:
        raise ValueError("accept_gap is about the binlog archive: it needs binlog_archive")
    command = [
        "python",
        "-m",
        "drctl.pilotlight",
        "restore",
        "--database",
        database,
        "--container",
        container,
    ]
    if binlog_archive:
        # Newest dump with an exact binlog position + every archived segment after it.
        # No --fallback: an older dump would need the binlog from its own, older
        # position, so point-in-time restore never falls back (drctl.binlog.pitr).
        command.append("--to-latest")
        if accept_gap:
            command.append("--accept-gap")
    else:
        # A refused (corrupt/partial) newest dump falls back to the one before it.
        command.append("--fallback")
    return [*command, "--yes", "--json"]


def target_dsn(*, user: str, password: str, host: str, database: str, port: int = 3306) -> str:
    """DRCTL_TARGET_DSN. Flexible Server listens on 3306; the sandbox passes its port."""
    quoted = urllib.parse.quote(password, safe="")
    return f"mysql://{urllib.parse.quote(user, safe='')}:{quoted}@{host}:{port}/{database}"


def restore_job(
    name: str,
    *,
    image: str,
    location: str,
    resource_group_name: pulumi.Input[str],
    subnet_id: pulumi.Input[str],
    database: str,
    container: str,
    binlog_archive: bool,
    accept_gap: bool,
    admin_user: str,
    admin_password: pulumi.Input[str],
    mysql_fqdn: pulumi.Input[str],
    reader_connection_string: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    depends_on: Sequence[pulumi.Resource] = (),
) -> containerinstance.ContainerGroup:
    dsn: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.all(admin_password, mysql_fqdn).apply(
            lambda v: target_dsn(
                user=admin_user, password=str(v[0]), host=str(v[1]), database=database
            )
        )
    )
    return containerinstance.ContainerGroup(
        f"{name}-restore",
        container_group_name=f"{name}-restore",
        resource_group_name=resource_group_name,
        location=location,
        os_type=containerinstance.OperatingSystemTypes.LINUX,
        sku=containerinstance.ContainerGroupSku.STANDARD,
        restart_policy=containerinstance.ContainerGroupRestartPolicy.NEVER,
        subnet_ids=[containerinstance.ContainerGroupSubnetIdArgs(id=subnet_id)],
        containers=[
            containerinstance.ContainerArgs(
                name="restore",
                image=image,
                command=restore_command(
                    database=database,
                    container=container,
                    binlog_archive=binlog_archive,
                    accept_gap=accept_gap,
                ),
                resources=containerinstance.ResourceRequirementsArgs(
                    # drctl restore streams (constant memory); 1 CPU feeds the mysql client.
                    requests=containerinstance.ResourceRequestsArgs(cpu=1, memory_in_gb=1.5)
                ),
                environment_variables=[
                    containerinstance.EnvironmentVariableArgs(
                        name="DRCTL_TARGET_DSN", secure_value=dsn
                    ),
                    containerinstance.EnvironmentVariableArgs(
                        name="AZURE_STORAGE_CONNECTION_STRING",
                        secure_value=pulumi.Output.secret(reader_connection_string),
                    ),
                ],
            )
        ],
        tags=tags,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=depends_on)),
    )
