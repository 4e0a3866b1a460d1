"""Region-dark failover for azure-pilot: with Seoul (ap-northeast-2) down, the site stack's
`pulumi up` with any phase toggle must declare, read or call nothing there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drctl import mocks
from drctl.synth import Synthesis, synthesize
from tests.pilot_light.conftest import synth, toggles

PRIMARY = "ap-northeast-2"
PHASES = [
    toggles(force=False, emergency=False, petclinic=False),
    toggles(force=True, emergency=False, petclinic=False),
    toggles(force=True, emergency=True, petclinic=False),
    toggles(force=True, emergency=True, petclinic=True),
]


@pytest.fixture
def invokes(monkeypatch: pytest.MonkeyPatch, standby: Synthesis) -> Iterator[list[tuple[str, str]]]:
    """Every invoke (data source read) the DR program makes, with the region it goes to.

    ``standby`` first: the seoul synthesis served to the StackReference is then cached,
    so only the DR program's own reads are recorded."""
    del standby
    seen: list[tuple[str, str]] = []
    original = mocks.DrstackMocks.call

    def recording(self: mocks.DrstackMocks, args: object) -> dict:
        region = self.providers.region_of(args.provider, args.args)  # type: ignore[attr-defined]
        seen.append((args.token, region))  # type: ignore[attr-defined]
        return original(self, args)  # type: ignore[arg-type]

    monkeypatch.setattr(mocks.DrstackMocks, "call", recording)
    yield seen


@pytest.mark.parametrize("phase", PHASES, ids=["standby", "forced", "emergency", "petclinic"])
def test_no_resource_or_provider_in_the_primary_region(phase: tuple[str, ...]) -> None:
    s = synth(*phase)
    in_primary = [(r.type, r.name) for r in s.resources if r.region == PRIMARY]
    # The StackReference reads the state backend, not the region; it is the only record
    # that may carry the primary's region (the mock's default for non-cloud resources).
    assert [t for t in in_primary if t[0] != "pulumi:pulumi:StackReference"] == []
    assert not s.of_type("pulumi:providers:kubernetes")
    for provider in s.of_type("pulumi:providers:aws"):
        assert provider.inputs["region"] != PRIMARY


def test_no_invoke_goes_to_the_primary_region(invokes: list[tuple[str, str]]) -> None:
    synthesize("azure-pilot", toggles(force=True, emergency=True, petclinic=True))
    tokens = {token for token, _ in invokes}
    # It does read: its hosted zone, the Azure client config, the container SAS.
    assert "aws:route53/getZone:getZone" in tokens
    assert any(t.startswith("azure-native:storage:listStorageAccountServiceSAS") for t in tokens)
    assert [call for call in invokes if call[1] == PRIMARY] == []
    assert {region for _, region in invokes} <= {"us-east-1", "koreasouth"}


def test_toggles_only_touch_azure_and_route53(standby: Synthesis) -> None:
    before = {r.urn: r.inputs for r in standby.resources}
    for phase in PHASES[1:]:
        after = synth(*phase)
        changed = {
            r.type
            for r in after.resources
            if r.custom and before.get(r.urn) != r.inputs and not r.type.startswith("pulumi:")
        }
        assert changed, phase
        stray = [t for t in changed if not t.startswith(("azure-native:", "aws:route53/"))]
        assert stray == [], (phase, stray)
