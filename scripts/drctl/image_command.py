"""`drctl image push`: build the app image, publish it pinned, wait for its replica."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError

from drctl import command_support as support
from drctl.failures import describe
from drctl.image_publish import PublishError, checked_tag, default_tag, prepare, publish

REPO_ROOT = Path(__file__).resolve().parents[2]


def register(app: typer.Typer) -> None:
    image = typer.Typer(help="Build and publish the drstack app image.", no_args_is_help=True)
    app.add_typer(image, name="image")

    @image.command("push")
    def push(
        tag: Annotated[
            str | None,
            typer.Option(help="Immutable tag (default: <UTC date>-<git commit>, clean tree only)."),
        ] = None,
        region: Annotated[str, typer.Option(help="Primary region (its ECR replicates).")] = (
            "ap-northeast-2"
        ),
        replica_region: Annotated[
            list[str] | None,
            typer.Option("--replica-region", help="Wait until the image is replicated here."),
        ] = None,
        stack: Annotated[
            list[str] | None, typer.Option("--stack", help="Stacks to print config for.")
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Check and print the plan only.")
        ] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Build app/Dockerfile, push it to the primary's ECR under an immutable tag, and
        wait for ECR replication to the DR region."""
        out, progress = support.consoles(as_json)
        replicas = replica_region if replica_region is not None else ["ap-northeast-1"]
        stacks = stack or ["seoul", "tokyo"]
        try:
            chosen = checked_tag(tag) if tag else default_tag(REPO_ROOT)
            publication = prepare(support.make_client_factory(), region, chosen, replicas)
            if dry_run:
                plan = {**publication.as_dict(stacks), "dry_run": True}
                if as_json:
                    support.print_json(plan)
                else:
                    out.print(f"would build and push {publication.image}; then set:")
                    for line in publication.config_commands(stacks):
                        out.print(f"  {line}", highlight=False)
                return
            if not yes and not typer.confirm(f"Build and push {publication.image}?"):
                raise typer.Exit(1)
            publish(
                support.make_client_factory(),
                publication,
                region,
                REPO_ROOT,
                say=lambda m: progress.print(m, highlight=False),
            )
        except PublishError as exc:
            support.fail(str(exc), code=1)
        except (BotoCoreError, ClientError, OSError) as exc:  # ECR/STS unreachable, no docker
            support.fail(f"image push: {describe(exc)[1]}", code=1)
        if as_json:
            support.print_json(publication.as_dict(stacks))
            return
        out.print(f"published {publication.image} ({publication.digest})", highlight=False)
        for replica, done in publication.replicated.items():
            out.print(f"  replica in {replica}: {'present' if done else 'NOT YET (check later)'}")
        out.print("pin it in both stacks, then `pulumi up` each:")
        for line in publication.config_commands(stacks):
            out.print(f"  {line}", highlight=False)
