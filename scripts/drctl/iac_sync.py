"""`drctl iac-sync`: make a DR stack's IaC match what a live failover/failback did.

After `drctl failover` has promoted the replica, the stack's state still says
"replica": setting ``promote_replica: true`` and running a plain `pulumi up` diffs
against that stale state, so the update must refresh first (`up --refresh`). After
failback, ``promote_replica: false`` cannot turn the promoted instance back into a
replica (RDS cannot re-attach a standalone instance as a replica;
terraform-provider-aws #4419): the instance must be *replaced*, so the update names it
with ``--replace URN``.

Failback also leaves the PRIMARY stack tracking the wrong instance: the endpoint swap
(``drctl.failover.rds_swap``) gives Seoul's identifier to a new instance (the promoted
reverse replica) and renames the old one to ``<id>-retired-<time>``. Since
terraform-provider-aws v5 an instance's state id is its DBI resource id, not its
identifier (terraform-provider-aws #31232), so a refresh would follow the retired
instance and the next `up` would try to rename it back. ``primary_commands`` forget
that state entry (the retired instance stays in AWS, stopped) and import the instance
that now holds the identifier (``pulumi import`` takes the identifier:
https://www.pulumi.com/registry/packages/aws/api-docs/rds/instance/#import). They are
printed, never run: they change the primary stack, which needs its region up.

Region dark: a plain ``up --refresh`` would also refresh the DR stack's resources in
the primary region (replication rules on Seoul buckets, the table replica), which
fails or hangs while Seoul is down. So refresh and update are limited with
``--target`` to the resources the toggles change (found by synthesizing the stack
offline before and after); ``up --refresh --target`` refreshes only the targets
(pulumi/pulumi#4174).

With the Pulumi CLI on PATH this runs through the Automation API
(``pulumi.automation``: select the stack, set the toggles, ``up`` with refresh and
replace). Without it, it prints the exact commands. ``--dry-run`` prints them too;
anything else needs ``--yes``.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from drctl import command_support as support
from drctl.failover.steps import config_toggles
from drctl.failures import describe, tool_stderr
from drctl.synth import PROJECT_DIR, Synthesis, load_stack_file, synthesize

EXIT_NOT_APPLIED = 3  # commands printed, nothing changed: the Pulumi CLI is missing
RDS_INSTANCE = "aws:rds/instance:Instance"


class SyncError(RuntimeError):
    """The plan cannot be built or the update failed; the message names the cause."""


@dataclass(frozen=True)
class SyncPlan:
    stack: str
    after: str  # "failover" or "failback"
    config: list[tuple[str, str]]
    targets: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Failback on RDS: what the primary stack needs (printed for the operator).
    primary_commands: list[str] = field(default_factory=list)

    def commands(self) -> list[str]:
        lines = [f"pulumi config set {key} {value} -s {self.stack}" for key, value in self.config]
        up = f"pulumi up --refresh -s {self.stack}"
        up += "".join(f" --target {shlex.quote(urn)}" for urn in self.targets)
        up += "".join(f" --replace {shlex.quote(urn)}" for urn in self.replace)
        return [*lines, up]

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "after": self.after,
            "config": dict(self.config),
            "refresh": True,
            "targets": self.targets,
            "replace": self.replace,
            "commands": self.commands(),
            "primary_stack_commands": self.primary_commands,
            "notes": self.notes,
        }


def _overrides(toggles: list[tuple[str, str]]) -> list[str]:
    return [f"{key.split(':', 1)[1]}={value}" for key, value in toggles]


def _synth(
    stack: str, toggles: list[tuple[str, str]], extra: Sequence[str], project_dir: Path
) -> Synthesis:
    return synthesize(stack, [*extra, *_overrides(toggles)], project_dir=project_dir)


def changed_urns(before: Synthesis, after: Synthesis) -> list[str]:
    """Resources the toggles create, delete or change: the only ones to refresh/update."""

    def shape(syn: Synthesis) -> dict[str, str]:
        return {
            r.urn: json.dumps([r.type, r.inputs], sort_keys=True, default=str)
            for r in syn.resources
        }

    old, new = shape(before), shape(after)
    return sorted(urn for urn in old.keys() | new.keys() if old.get(urn) != new.get(urn))


def replica_urn(syn: Synthesis) -> str:
    """The RDS read replica (the instance that has a source) in the toggles-off synthesis."""
    replicas = [r.urn for r in syn.of_type(RDS_INSTANCE) if r.inputs.get("replicateSourceDb")]
    if len(replicas) != 1:
        raise SyncError(f"stack {syn.stack}: expected one RDS read replica, found {replicas}")
    return replicas[0]


AURORA_FAILBACK_NOTE = (
    "aurora-mysql: SwitchoverGlobalCluster made the Tokyo cluster a secondary again; "
    "nothing is replaced, the update only removes what promote_replica added"
)


def _engine(stack_file: dict[str, Any]) -> str:
    rds = stack_file.get("drstack:rds") or {}
    return str(rds.get("engine", "mysql")) if isinstance(rds, dict) else "mysql"


def build_plan(
    stack: str,
    after: str,
    *,
    replace_urn: str | None = None,
    overrides: Sequence[str] = (),
    project_dir: Path = PROJECT_DIR,
) -> SyncPlan:
    """``overrides`` (``key=value``, as ``drctl preview --set``) only feed the offline
    synthesis that finds the URNs; the stack's real config is what `pulumi up` uses."""
    stack_file = load_stack_file(stack, project_dir)
    strategy = str(stack_file.get("drstack:strategy", "warm-standby"))
    toggles = config_toggles(after, strategy)
    undone = config_toggles("failback" if after == "failover" else "failover", strategy)
    before = _synth(stack, undone, overrides, project_dir)
    now = _synth(stack, toggles, overrides, project_dir)
    targets = changed_urns(before, now)
    if after == "failover" or strategy != "warm-standby":
        return SyncPlan(stack, after, toggles, targets=targets)
    if _engine(stack_file) == "aurora-mysql":
        return SyncPlan(stack, after, toggles, targets=targets, notes=[AURORA_FAILBACK_NOTE])
    urn = replace_urn or replica_urn(now)
    primary = str(stack_file.get("drstack:primary_stack", "seoul"))
    return SyncPlan(
        stack,
        after,
        toggles,
        targets=sorted({*targets, urn}),
        replace=[urn],
        primary_commands=adopt_swapped_primary(_synth(primary, [], [], project_dir), primary),
        notes=[
            f"failback renamed the old {primary} primary to <id>-retired-<time> (stopped, "
            "in a read_only=1 parameter group of its own): keep it until the data is "
            f"checked, then delete it by hand; run primary_stack_commands on {primary}",
            "the promoted DR instance is deleted and a new read replica of the primary is "
            "created; Pulumi takes its final snapshot first (skip_final_snapshot is off "
            "while promoted)",
            "RDS refuses to delete an instance with deletion protection: the promoted "
            "instance has it, so turn it off first: aws rds modify-db-instance "
            "--db-instance-identifier <replica_instance_id> --no-deletion-protection "
            "--apply-immediately",
        ],
    )


def adopt_swapped_primary(primary: Synthesis, stack: str) -> list[str]:
    """Forget the renamed-aside instance, import the one now holding the identifier."""
    instances = [r for r in primary.of_type(RDS_INSTANCE) if not r.inputs.get("replicateSourceDb")]
    if len(instances) != 1:
        raise SyncError(f"stack {stack}: expected one RDS primary, found {len(instances)}")
    instance = instances[0]
    parent = primary.by_urn(instance.parent) if instance.parent else None
    parent_flag = f" --parent {shlex.quote(f'{parent.name}={parent.urn}')}" if parent else ""
    urn = shlex.quote(instance.urn)
    identifier = str(instance.inputs.get("identifier", ""))
    return [
        f"pulumi state delete {urn} -s {stack} --yes",
        f"pulumi import {RDS_INSTANCE} {instance.name} {identifier}{parent_flag} -s {stack}",
        f"pulumi up --refresh -s {stack} --target {urn}",
    ]


def pulumi_cli_available() -> bool:
    return shutil.which("pulumi") is not None


def apply_plan(plan: SyncPlan, work_dir: Path, say: Callable[[str], None]) -> str:
    """Run the plan through the Automation API; returns the update's result."""
    from pulumi import automation as auto

    try:
        stack = auto.select_stack(stack_name=plan.stack, work_dir=str(work_dir))
        for key, value in plan.config:
            stack.set_config(key, auto.ConfigValue(value=value))
        result = stack.up(
            refresh=True,
            target=plan.targets or None,
            replace=plan.replace or None,
            on_output=say,
        )
    except auto.CommandError as exc:
        # The cause is on pulumi's last stderr lines: quote those, not the first 400 chars.
        detail = tool_stderr(getattr(exc, "stderr", None) or str(exc))
        raise SyncError(f"pulumi failed on stack {plan.stack}: {detail}") from exc
    except Exception as exc:  # a pulumi that cannot start, a version the SDK refuses
        raise SyncError(f"pulumi failed on stack {plan.stack}: {describe(exc)[1]}") from exc
    return str(result.summary.result)


def register(app: typer.Typer) -> None:
    @app.command("iac-sync")
    def iac_sync(
        after: Annotated[str, typer.Option("--after", help="What ran live: failover or failback.")],
        stack: Annotated[str, typer.Option("--stack", help="The DR stack.")] = "tokyo",
        replace_urn: Annotated[
            str | None, typer.Option(help="URN to replace (default: the stack's replica).")
        ] = None,
        overrides: Annotated[
            list[str] | None,
            typer.Option(
                "--set",
                help="key=value for the offline synthesis that finds the URNs (repeatable).",
            ),
        ] = None,
        work_dir: Annotated[Path, typer.Option(help="The Pulumi project directory.")] = PROJECT_DIR,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Print the commands; change nothing.")
        ] = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply (required).")] = False,
    ) -> None:
        """Make the DR stack's IaC match a live failover/failback (refresh, toggles, replace)."""
        if after not in ("failover", "failback"):
            support.fail(f"--after {after!r} is invalid: use failover or failback")
        out, progress = support.consoles(as_json)
        try:
            plan = build_plan(
                stack,
                after,
                replace_urn=replace_urn,
                overrides=overrides or (),
                project_dir=work_dir,
            )
        except Exception as exc:  # ConfigError, SyncError: one line naming the stack
            support.fail(f"iac-sync {stack}: {exc}")
        mode = "dry-run" if dry_run else "automation-api" if pulumi_cli_available() else "manual"
        if not dry_run and not yes:
            support.fail("iac-sync changes the stack: pass --yes (or --dry-run to see the plan)")
        report: dict[str, Any] = {**plan.as_dict(), "mode": mode, "result": None}
        if mode == "automation-api":
            try:
                report["result"] = apply_plan(
                    plan, work_dir, lambda line: progress.print(escape(line.rstrip()))
                )
            except SyncError as exc:
                support.fail(str(exc), code=1)
        if as_json:
            support.print_json(report)
        else:
            heading = {
                "dry-run": "iac-sync plan (dry run, nothing changed):",
                "manual": "Pulumi CLI not found on PATH: nothing changed. Run:",
                "automation-api": f"iac-sync applied through the Automation API: {report['result']}",
            }[mode]
            out.print(heading, highlight=False)
            for line in plan.commands():
                out.print(f"  {escape(line)}", highlight=False)
            if plan.primary_commands:
                out.print("Then, on the primary stack (its region up):", highlight=False)
                for line in plan.primary_commands:
                    out.print(f"  {escape(line)}", highlight=False)
            for note in plan.notes:
                out.print(f"  note: {escape(note)}", highlight=False)
        if mode == "manual":
            raise typer.Exit(EXIT_NOT_APPLIED)
