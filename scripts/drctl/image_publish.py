"""Build the drstack app image and publish it to the primary region's ECR, pinned.

ECR replication (owned by the warm-standby stack) copies every push to the DR region,
where a REPLICATION creation template keeps the copy's tags immutable too. So one push
gives both regions the same digest under the same tag, and the stacks pin that tag
(``image_tags.drstack-app``). Docker does the build and push; ECR answers the rest.
"""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from drctl import deadline
from drctl.aws import ClientFactory
from drctl.failures import tool_failed, tool_stderr
from stacks.config import ConfigError, parse_image_tag

REPOSITORY = "drstack-app"
# EKS nodes are x86_64 (t3/m5); an image built on an arm64 laptop would not start there.
PLATFORM = "linux/amd64"

Runner = Callable[..., subprocess.CompletedProcess[Any]]


class PublishError(RuntimeError):
    """One line that says what is wrong and what to do."""


@dataclass
class Publication:
    registry: str
    tag: str
    replica_regions: Sequence[str]
    digest: str = ""
    replicated: dict[str, bool] = field(default_factory=dict)

    @property
    def image(self) -> str:
        return f"{self.registry}/{REPOSITORY}:{self.tag}"

    def config_commands(self, stacks: Sequence[str]) -> list[str]:
        return [
            f"pulumi config set --path 'drstack:image_tags.{REPOSITORY}' {self.tag} -s {stack}"
            for stack in stacks
        ]

    def as_dict(self, stacks: Sequence[str]) -> dict[str, Any]:
        return {
            "image": self.image,
            "tag": self.tag,
            "digest": self.digest,
            "replicated": self.replicated,
            "config": self.config_commands(stacks),
        }


def checked_tag(tag: str) -> str:
    try:
        return parse_image_tag("tag", tag)
    except ConfigError as exc:
        raise PublishError(str(exc).replace("drstack:tag", "--tag")) from None


def default_tag(repo_root: Path, run: Runner = subprocess.run) -> str:
    """<UTC date>-<commit>: names the source exactly, so refuse a dirty work tree."""
    status = run(["git", "status", "--porcelain"], cwd=repo_root, capture_output=True, text=True)
    if status.returncode != 0:
        raise PublishError("not a git work tree: pass --tag")
    if status.stdout.strip():
        raise PublishError("the work tree has uncommitted changes: commit them or pass --tag")
    sha = run(
        ["git", "rev-parse", "--short=8", "HEAD"], cwd=repo_root, capture_output=True, text=True
    ).stdout.strip()
    return f"{time.strftime('%Y.%m.%d', time.gmtime())}-{sha}"


def _image_digest(ecr: Any, tag: str) -> str | None:
    try:
        found = ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "ImageNotFoundException":
            return None
        if code == "RepositoryNotFoundException":
            raise PublishError(
                f"ECR repository {REPOSITORY} does not exist in this region: run "
                "`pulumi up` on the primary stack first"
            ) from None
        raise
    details = found.get("imageDetails") or []
    return str(details[0]["imageDigest"]) if details else None


def prepare(factory: ClientFactory, region: str, tag: str, replicas: Sequence[str]) -> Publication:
    """Read-only checks (also what --dry-run runs): the registry and a free tag."""
    account = factory.client("sts", region).get_caller_identity()["Account"]
    publication = Publication(f"{account}.dkr.ecr.{region}.amazonaws.com", tag, list(replicas))
    if _image_digest(factory.client("ecr", region), tag) is not None:
        raise PublishError(
            f"{publication.image} is already published and ECR tags are immutable: "
            "choose a new --tag"
        )
    return publication


def _login(
    factory: ClientFactory, region: str, registry: str, run: Runner, repo_root: Path
) -> None:
    token = factory.client("ecr", region).get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    # The password goes through stdin: never argv (visible in ps) nor the log.
    done = run(
        ["docker", "login", "--username", user, "--password-stdin", registry],
        input=password,
        text=True,
        capture_output=True,
        cwd=repo_root,
    )
    if done.returncode != 0:
        raise PublishError(f"docker login to {registry} failed: {tool_stderr(done.stderr)}")


def _docker(run: Runner, repo_root: Path, say: Callable[[str], None], *args: str) -> None:
    # stderr is kept for the one line (the cause is on its last lines); while docker
    # works, the wait says what it waits for every 15 s instead of its progress bars.
    with deadline.waiting(f"docker {args[0]}", say):
        done = run(["docker", *args], cwd=repo_root, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise PublishError(tool_failed(f"`docker {args[0]}`", done.returncode, done.stderr))


def publish(
    factory: ClientFactory,
    publication: Publication,
    region: str,
    repo_root: Path,
    run: Runner = subprocess.run,
    replica_timeout: float = 900.0,
    poll_seconds: float = 15.0,
    say: Callable[[str], None] = print,
) -> Publication:
    _login(factory, region, publication.registry, run, repo_root)
    say(f"building {publication.image} ({PLATFORM})")
    _docker(
        run,
        repo_root,
        say,
        "build",
        "--platform",
        PLATFORM,
        "-f",
        "app/Dockerfile",
        "-t",
        publication.image,
        ".",
    )
    say(f"pushing {publication.image}")
    _docker(run, repo_root, say, "push", publication.image)
    digest = _image_digest(factory.client("ecr", region), publication.tag)
    if digest is None:
        raise PublishError(f"{publication.image} was pushed but ECR does not list it")
    publication.digest = digest
    for replica in publication.replica_regions:
        say(
            f"waiting for ECR to replicate {publication.tag} to {replica} (up to {replica_timeout:g}s)"
        )
        with deadline.waiting(f"ECR replication to {replica}", say):
            publication.replicated[replica] = _wait_for_replica(
                factory.client("ecr", replica),
                publication.tag,
                digest,
                replica_timeout,
                poll_seconds,
            )
    return publication


def _wait_for_replica(ecr: Any, tag: str, digest: str, timeout: float, poll: float) -> bool:
    """ECR replicates within minutes; the same digest proves it is the same build."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = _image_digest(ecr, tag)
        except PublishError:
            found = None  # replication creates the repository with the first image
        if found is not None:
            if found != digest:
                raise PublishError(f"the replica of {tag} has digest {found}, not {digest}")
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
