"""`drctl image push`: ECR checks against moto; docker is recorded, not run (no daemon
here), so the build and the push themselves are covered only by their command lines."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from drctl import command_support
from drctl.aws import ClientFactory
from drctl.cli import app
from drctl.image_publish import Publication, PublishError, prepare, publish

SEOUL, TOKYO = "ap-northeast-2", "ap-northeast-1"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "digest": "sha256:" + "1" * 64,
            "size": 1,
            "mediaType": "application/vnd.docker.container.image.v1+json",
        },
        "layers": [],
    }
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientFactory]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("ecr", region_name=SEOUL).create_repository(
            repositoryName="drstack-app", imageTagMutability="IMMUTABLE"
        )
        factory = ClientFactory()
        monkeypatch.setattr(command_support, "make_client_factory", lambda: factory)
        yield factory


def push_image(region: str, tag: str) -> None:
    boto3.client("ecr", region_name=region).put_image(
        repositoryName="drstack-app", imageManifest=MANIFEST, imageTag=tag
    )


class Docker:
    """Records docker invocations; `push` lands the image in (moto's) ECR as docker would."""

    def __init__(self, replicate_to: str | None = None) -> None:
        self.calls: list[tuple[list[str], Any]] = []
        self.replicate_to = replicate_to

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        self.calls.append((argv, kwargs.get("input")))
        if argv[:2] == ["docker", "push"]:
            tag = argv[2].rsplit(":", 1)[1]
            push_image(SEOUL, tag)
            if self.replicate_to:
                boto3.client("ecr", region_name=self.replicate_to).create_repository(
                    repositoryName="drstack-app"
                )
                push_image(self.replicate_to, tag)
        return subprocess.CompletedProcess(argv, 0, "", "")


def test_dry_run_checks_the_registry_and_prints_the_pins(aws: ClientFactory) -> None:
    result = CliRunner().invoke(
        app, ["image", "push", "--tag", "2026.11.29-3f2a1c", "--dry-run", "--json"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert (
        plan["image"]
        == "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/drstack-app:2026.11.29-3f2a1c"
    )
    assert plan["config"] == [
        "pulumi config set --path 'drstack:image_tags.drstack-app' 2026.11.29-3f2a1c -s seoul",
        "pulumi config set --path 'drstack:image_tags.drstack-app' 2026.11.29-3f2a1c -s tokyo",
    ]


@pytest.mark.parametrize(
    "tag,fragment", [("latest", "`latest` moves"), ("a b", "--tag = 'a b' is invalid")]
)
def test_moving_or_malformed_tags_are_refused(aws: ClientFactory, tag: str, fragment: str) -> None:
    result = CliRunner().invoke(app, ["image", "push", "--tag", tag, "--dry-run"])
    assert result.exit_code == 1
    assert fragment in result.output and "Traceback" not in result.output


def test_a_published_tag_is_never_pushed_again(aws: ClientFactory) -> None:
    push_image(SEOUL, "1.0.0")
    result = CliRunner().invoke(app, ["image", "push", "--tag", "1.0.0", "--yes"])
    assert result.exit_code == 1
    assert "already published and ECR tags are immutable" in result.output


def test_push_logs_in_through_stdin_and_waits_for_the_same_digest_in_tokyo(
    aws: ClientFactory,
) -> None:
    docker = Docker(replicate_to=TOKYO)
    publication = prepare(aws, SEOUL, "2.0.0", [TOKYO])
    publish(aws, publication, SEOUL, Path("."), run=docker, poll_seconds=0, say=lambda _m: None)
    login, build, push = docker.calls
    token = aws.client("ecr", SEOUL).get_authorization_token()["authorizationData"][0]
    password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)[1]
    assert login[0][:5] == ["docker", "login", "--username", "AWS", "--password-stdin"]
    assert password not in " ".join(login[0]) and login[1] == password
    assert build[0][:4] == ["docker", "build", "--platform", "linux/amd64"]
    assert push[0] == ["docker", "push", publication.image]
    assert publication.digest.startswith("sha256:")
    assert publication.replicated == {TOKYO: True}


def test_a_missing_replica_is_reported_not_hidden(aws: ClientFactory) -> None:
    publication = prepare(aws, SEOUL, "3.0.0", [TOKYO])
    publish(
        aws,
        publication,
        SEOUL,
        Path("."),
        run=Docker(),
        replica_timeout=0,
        poll_seconds=0,
        say=lambda _m: None,
    )
    assert publication.replicated == {TOKYO: False}


def test_without_the_repository_the_error_says_to_run_up_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with (
        mock_aws(),
        pytest.raises(PublishError, match="run `pulumi up` on the primary stack first"),
    ):
        prepare(ClientFactory(), SEOUL, "1.0.0", [])


def test_publication_config_names_each_stack() -> None:
    assert Publication("r", "t", []).config_commands(["seoul"]) == [
        "pulumi config set --path 'drstack:image_tags.drstack-app' t -s seoul"
    ]
