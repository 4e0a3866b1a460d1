"""`drctl exporter`: serve the drstack metrics (backups, replica lag, failover runs)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from prometheus_client import generate_latest, start_http_server

from drctl import command_support as support
from drctl.exporter import ExporterSources, budget_for, make_registry
from drctl.failover.rds import LagReader
from drctl.failover.state import DEFAULT_STATE_DIR
from drctl.stack_outputs import OutputsError, StackOutputs
from observability import metrics as m

DEFAULT_PORT = 9478


def _sources(outputs: StackOutputs, stack: str, state_dir: Path) -> ExporterSources:
    sources = ExporterSources(stack=stack, state_dir=state_dir)
    if outputs.optional(stack, "backup_container") is not None:
        from drctl.pilotlight.storage import StorageConfigError, open_container, resolve_container

        try:
            connection_string, name = resolve_container(
                container=None, outputs=outputs, stack=stack
            )
        except StorageConfigError as exc:
            support.fail(str(exc))
        sources.container = open_container(connection_string, name)
    sources.lag_reader = _lag_reader(outputs, stack)
    return sources


def _lag_reader(outputs: StackOutputs, stack: str) -> LagReader | None:
    """ReplicaLag of the RDS replica, or AuroraGlobalDBReplicationLag of the secondary
    cluster (rds.engine aurora-mysql); the DR region's CloudWatch only, so the exporter
    keeps working with Seoul dark."""
    from drctl.engines import AURORA_MYSQL, db_engine

    aurora = db_engine(outputs.stack(stack)) == AURORA_MYSQL
    key = "replica_cluster_id" if aurora else "replica_instance_id"
    replica = outputs.optional(stack, key)
    if not replica:
        return None
    cloudwatch = support.make_client_factory().client("cloudwatch", outputs.get(stack, "region"))
    if aurora:
        from drctl.failover.aurora import AuroraLagReader

        # The metric's SourceRegion is the primary's region (drctl.failover.aurora).
        source = outputs.optional(stack, "primary_region")
        return AuroraLagReader(cloudwatch, str(replica), source_region=source or None)
    from drctl.failover.rds import CloudWatchLagReader

    return CloudWatchLagReader(cloudwatch, str(replica))


def exporter(
    stack: Annotated[str, typer.Option("--stack", help="The DR stack to report on.")] = "tokyo",
    outputs_file: Annotated[
        Path | None, typer.Option("--outputs", help=support.OUTPUTS_HELP)
    ] = None,
    address: Annotated[str, typer.Option("--address", help="Listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = DEFAULT_PORT,
    state_dir: Annotated[
        Path, typer.Option("--state-dir", help="drctl failover run-state directory.")
    ] = DEFAULT_STATE_DIR,
    once: Annotated[
        bool, typer.Option("--once", help="Print one scrape (Prometheus text) and exit.")
    ] = False,
    scrape_timeout: Annotated[
        float,
        typer.Option(
            "--scrape-timeout",
            min=0.1,
            help="The job's scrape_timeout in seconds: each scrape answers within 70% of it, "
            "a source slower than that is reported down.",
        ),
    ] = m.DRCTL_SCRAPE_TIMEOUT_SECONDS,
) -> None:
    """Expose backup age/size/status, replica lag and failover run state for Prometheus."""
    outputs = support.read_outputs(outputs_file, [stack])
    try:
        outputs.stack(stack)
    except OutputsError as exc:
        support.fail(str(exc))
    registry = make_registry(
        _sources(outputs, stack, state_dir), budget_seconds=budget_for(scrape_timeout)
    )
    if once:
        sys.stdout.write(generate_latest(registry).decode())
        return
    try:
        server, _thread = start_http_server(port, addr=address, registry=registry)
    except OSError as exc:  # the port is taken, or the address is not this host's
        support.fail(
            f"cannot listen on {address}:{port}: {exc.strerror or exc}; choose another --port"
        )
    sys.stderr.write(f"drctl exporter: http://{address}:{server.server_port}/metrics\n")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


def register(app: typer.Typer) -> None:
    app.command("exporter")(exporter)
