"""`drctl status`: the seed 000 §4/§8 component checks, in parallel, as a table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from drctl import command_support as support
from drctl import deadline
from drctl.status_checks import ERROR, FAIL, OK, StatusContext, exit_code, run_checks

_STYLE = {OK: "green", FAIL: "bold red", ERROR: "yellow"}


def kube_core_api(kubeconfig: Any) -> Any:
    """CoreV1Api from the kubeconfig output (kept in memory; it is a secret)."""
    import yaml
    from kubernetes import client

    data = yaml.safe_load(kubeconfig) if isinstance(kubeconfig, str) else kubeconfig
    api_client = deadline.kube_api_client(data)
    # The Kubernetes client has no default timeout: bound every call.
    return deadline.BoundedApi(client.CoreV1Api(api_client), deadline.kube_endpoint(api_client))


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status(
        outputs: Annotated[
            Path | None, typer.Option("--outputs", help=support.OUTPUTS_HELP)
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        dr: Annotated[str, typer.Option("--dr", help="DR stack.")] = "tokyo",
        primary: Annotated[str, typer.Option("--primary", help="Primary stack.")] = "seoul",
        max_lag: Annotated[float | None, typer.Option(help="Replica lag limit (s).")] = None,
        probe_timeout: Annotated[float, typer.Option(help="Replication probe wait (s).")] = 5.0,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Give up on the whole run after this (s).")
        ] = support.STATUS_TIMEOUT_SECONDS,
    ) -> None:
        """Run the DR component checks (exit 1 when any check fails or cannot run)."""
        out, progress = support.consoles(as_json)
        stack_outputs = support.read_outputs(
            outputs, [primary, dr], "status", {primary: "primary", dr: "dr"}
        )
        limit = (
            max_lag
            if max_lag is not None
            else float(stack_outputs.optional(dr, "max_lag_seconds", 60))
        )
        ctx = StatusContext(
            outputs=stack_outputs,
            factory=support.make_client_factory(),
            dr_stack=dr,
            primary_stack=primary,
            max_lag_seconds=limit,
            probe_timeout_seconds=probe_timeout,
            kube_core_api=kube_core_api,
        )
        with progress.status("running DR checks…"), support.time_limit(timeout) as run_deadline:
            results = run_checks(ctx)
        code = exit_code(results)
        if run_deadline.gave_up_on is not None:
            support.say_gave_up("status", run_deadline)
        if as_json:
            support.print_json({"ok": code == 0, "checks": [r.to_dict() for r in results]})
        else:
            table = Table(title=f"DR status: {primary} → {dr}")
            table.add_column("check")
            table.add_column("result")
            table.add_column("detail", overflow="fold")
            for r in results:
                style = _STYLE.get(r.status, "dim")
                table.add_row(r.name, f"[{style}]{r.status.upper()}[/]", escape(r.detail))
            out.print(table)
        raise typer.Exit(code)
