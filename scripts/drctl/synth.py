"""Offline synthesis: run the drstack program under Pulumi's mock runtime.

This is the stand-in for ``pulumi preview`` on machines without the CLI. It loads
``Pulumi.<stack>.yaml``, applies ``--set`` overrides, runs the real program against the
real SDK types, and records every register request the engine would receive: type, name,
parent, provider region, inputs (camelCase, as the engine sees them) and dependencies.

Each synthesis runs on its own thread: the SDK keeps its settings, root resource and
config in ContextVars, so a fresh thread starts from a clean runtime every time.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from drctl.mocks import DrstackMocks, ProviderRegistry, region_from_kubeconfig
from stacks.config import NAMESPACE, ConfigError, StackConfig, parse_config
from stacks.stack_file import read_stack_file

PROJECT = "drstack"
PROJECT_DIR = Path(__file__).resolve().parents[2]
SECRET_MASK = "[secret]"


@dataclass
class ResourceRecord:
    urn: str
    type: str
    name: str
    parent: str | None
    region: str | None
    provider: str | None
    custom: bool
    # Inputs as the engine sees them (camelCase keys), secrets unwrapped: what policies get.
    inputs: dict[str, Any]
    # The same inputs with every secret replaced by "[secret]": what may be printed.
    display_inputs: dict[str, Any]
    depends_on: list[str]
    ignore_changes: list[str]
    protect: bool
    # True for `Resource.get()` reads: objects this stack looks at but does not own.
    read: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "region": self.region,
            "inputs": self.display_inputs,
            "depends_on": self.depends_on,
            **({"read": True} if self.read else {}),
        }


@dataclass
class InvokeRecord:
    """A data-source call (``aws.get_*``) the program made, and where it would go."""

    token: str
    provider: str | None
    region: str | None
    args: dict[str, Any]


@dataclass
class Synthesis:
    stack: str
    config: StackConfig
    resources: list[ResourceRecord]
    outputs: dict[str, Any]
    secret_outputs: set[str] = field(default_factory=set)
    # What the StackReference to the primary served (DR stacks only).
    primary_outputs: Mapping[str, Any] | None = None
    # Every invoke (data-source read) the program made, with its provider's region.
    invokes: list[InvokeRecord] = field(default_factory=list)

    def of_type(self, type_: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name_contains: str = "") -> ResourceRecord:
        found = [r for r in self.of_type(type_) if name_contains in r.name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise LookupError(f"expected one {type_} matching {name_contains!r}, found {names}")
        return found[0]

    def by_urn(self, urn: str) -> ResourceRecord:
        return next(r for r in self.resources if r.urn == urn)

    def display_outputs(self) -> dict[str, Any]:
        return {k: SECRET_MASK if k in self.secret_outputs else v for k, v in self.outputs.items()}


# --------------------------------------------------------------------------- config files


def _parse_override_value(key: str, text: str) -> Any:
    if text == "":
        return ""
    try:
        # safe_load: a `!!python/...` tag is refused, never constructed.
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"--set {key}: {text!r} is not a YAML value: {_yaml_problem(exc)}"
        ) from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line from PyYAML's multi-line message: the problem and its column."""
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or exc.context or "parse error"
        mark = exc.problem_mark or exc.context_mark
        where = f" at column {mark.column + 1}" if mark is not None else ""
        return f"{problem}{where}".replace("\n", " ")
    return " ".join(str(exc).split())


def apply_overrides(config: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key=value`` overrides; nested keys are dotted (``dns.ttl=60``).

    Keys without a namespace are ``drstack:`` keys; ``aws:region=...`` names another one.
    Values are YAML scalars, so ``60`` is a number and ``true`` a boolean.
    """
    result = json.loads(json.dumps(config))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r} is invalid: expected key=value, e.g. dns.ttl=60")
        key, value_text = item.split("=", 1)
        key = key.strip()
        full = key if ":" in key else f"{NAMESPACE}:{key}"
        top, *path = full.split(".")
        value = _parse_override_value(key, value_text)
        if not path:
            result[top] = value
            continue
        node = result.setdefault(top, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {item!r} is invalid: {top} is not a mapping")
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r} is invalid: {part} is not a mapping")
        node[path[-1]] = value
    return result


def load_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml")
        )
        raise ConfigError(f"stack {stack!r} is unknown: no {path.name} (known: {', '.join(known)})")
    return dict(read_stack_file(path).get("config") or {})


def engine_config(config: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Turn stack-file config into what the engine hands the program: strings, JSON for
    objects. ``secure:`` values cannot be decrypted offline and become a placeholder."""
    flat: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            flat[key] = "offline-preview-placeholder"
            secret_keys.append(key)
        elif isinstance(value, str):
            flat[key] = value
        else:
            flat[key] = json.dumps(value)
    return flat, secret_keys


# --------------------------------------------------------------------------- monitor


_SECRET_SIG = rpc._special_sig_key  # "4dabf18193072939515e22adb298388d"
_SECRET_VALUE = rpc._special_secret_sig
_RESOURCE_VALUE = rpc._special_resource_sig
_OUTPUT_VALUE = rpc._special_output_value_sig


def _plain(value: Any, mask: bool) -> Any:
    if isinstance(value, dict):
        sig = value.get(_SECRET_SIG)
        if sig == _SECRET_VALUE:
            return SECRET_MASK if mask else _plain(value.get("value"), mask)
        if sig == _RESOURCE_VALUE:
            return value.get("id") or value.get("urn")
        if sig == _OUTPUT_VALUE:
            if value.get("secret") and mask:
                return SECRET_MASK
            return _plain(value.get("value"), mask)
        return {k: _plain(v, mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, mask) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, keeping each register request as the engine would see it."""

    def __init__(self, mocks: DrstackMocks, registry: ProviderRegistry) -> None:
        super().__init__(mocks)
        self.registry = registry
        self.records: list[ResourceRecord] = []
        self.invokes: list[InvokeRecord] = []
        self.stack_outputs: dict[str, Any] = {}
        self.stack_secret_outputs: set[str] = set()
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine does not qualify a top-level resource's type with the root stack's
        # (the stock mock monitor does); match the URNs a real `pulumi preview` shows.
        if parent.split("::")[2:3] == ["pulumi:pulumi:Stack"]:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, request.object, response.urn, response.id, read=False)
        return response

    def Invoke(self, request: Any) -> Any:
        # A data-source read is an API call at `pulumi up` time, in its provider's region:
        # recorded so a test can prove a DR program reads nothing in the primary region.
        response = super().Invoke(request)
        if request.tok != "pulumi:pulumi:getResource":
            args = _plain(json_format.MessageToDict(request.args), mask=True)
            region = self.registry.region_of(request.provider or None, args)
            with self._lock:
                self.invokes.append(
                    InvokeRecord(request.tok, request.provider or None, region, args)
                )
        return response

    def ReadResource(self, request: Any) -> Any:
        # `Resource.get(...)`: a read of an object another stack owns (e.g. the source
        # bucket's versioning); recorded so dependencies on it are visible.
        response = super().ReadResource(request)
        self._record(request, request.properties, response.urn, request.id, read=True)
        return response

    def _record(self, request: Any, props: Any, urn: str, rid: str, read: bool) -> None:
        raw = json_format.MessageToDict(props, preserving_proto_field_name=True)
        if read:
            raw = {"id": rid, **raw}
        inputs = _plain(raw, mask=False)
        if request.type.startswith("pulumi:providers:"):
            region = (
                inputs.get("region")
                or inputs.get("location")
                or region_from_kubeconfig(inputs.get("kubeconfig"))
            )
            if region:
                self.registry.regions[f"{urn}::{rid}"] = region
        region = self.registry.region_of(request.provider or None, inputs)
        deps = set(request.dependencies)
        if not read:
            for prop_deps in request.propertyDependencies.values():
                deps.update(prop_deps.urns)
        custom = True if read else bool(request.custom)
        record = ResourceRecord(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            region=region if custom else None,
            provider=request.provider or None,
            custom=custom,
            inputs=inputs,
            display_inputs=_plain(raw, mask=True),
            depends_on=sorted(deps),
            ignore_changes=[] if read else list(request.ignoreChanges),
            protect=False if read else bool(request.protect),
            read=read,
        )
        with self._lock:
            self.records.append(record)


# --------------------------------------------------------------------------- synthesis


def _resolve_outputs(outputs: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    async def resolve() -> tuple[dict[str, Any], set[str]]:
        values: dict[str, Any] = {}
        secrets: set[str] = set()
        for key, value in outputs.items():
            out = pulumi.Output.from_input(value)
            # Numbers cross the engine's protobuf boundary as doubles: an integral
            # value is shown as the integer the program exported (as `pulumi stack
            # output` does), not as 2.0.
            values[key] = _plain(await out.future(with_unknowns=True), mask=False)
            if await out.is_secret():
                secrets.add(key)
        return values, secrets

    return pulumi_mocks._sync_await(resolve())


def _run_program(
    stack: str,
    flat_config: dict[str, str],
    secret_keys: list[str],
    stack_outputs: Mapping[str, Mapping[str, Any]],
) -> Synthesis:
    from stacks import build

    region = flat_config.get("aws:region", "ap-northeast-2")
    registry = ProviderRegistry(default_region=region)
    mocks = DrstackMocks(registry, stack_outputs)
    monitor = RecordingMonitor(mocks, registry)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(flat_config, secret_keys)

    cfg = parse_config(stack, flat_config, secret_keys)
    result: dict[str, Any] = {}

    def program() -> None:
        result["outputs"] = build(cfg)

    pulumi_mocks.test(program)()
    values, secrets = _resolve_outputs(result["outputs"])
    return Synthesis(
        stack, cfg, list(monitor.records), values, secrets, invokes=list(monitor.invokes)
    )


def primary_stack_file(primary_stack: str | None) -> str:
    """The stack-file name of a primary reference: "org/project/seoul" -> "seoul"."""
    return (primary_stack or "seoul").rsplit("/", 1)[-1]


@functools.lru_cache(maxsize=8)
def _primary_outputs(
    stack: str, project_dir: Path, seen: tuple[str, ...], mtime_ns: int
) -> tuple[str, Mapping[str, Any]]:
    """The primary's outputs, synthesized once per stack file version: a matrix of DR
    previews would otherwise re-run the same primary program every time."""
    del mtime_ns  # part of the cache key only
    primary = synthesize(stack, (), project_dir, _seen=seen)
    return primary.config.role, MappingProxyType(primary.outputs)


def synthesize(
    stack: str,
    overrides: Sequence[str] = (),
    project_dir: Path = PROJECT_DIR,
    config: Mapping[str, Any] | None = None,
    _seen: tuple[str, ...] = (),
) -> Synthesis:
    """Synthesize ``stack`` offline. A DR stack first synthesizes the primary it names
    (``drstack:primary_stack``) and serves that synthesis' outputs to its StackReference."""
    raw = dict(config) if config is not None else load_stack_file(stack, project_dir)
    raw = apply_overrides(raw, overrides)
    flat, secret_keys = engine_config(raw)
    cfg = parse_config(stack, flat, secret_keys)  # fail fast, before any thread or mock

    stack_outputs: dict[str, Mapping[str, Any]] = {}
    if cfg.primary_stack:
        # "org/project/seoul" on Pulumi Cloud; its stack file is Pulumi.seoul.yaml.
        primary_name = primary_stack_file(cfg.primary_stack)
        if primary_name in (*_seen, stack):
            raise ConfigError(
                f"{NAMESPACE}:primary_stack = {cfg.primary_stack!r} is invalid: it forms a cycle"
            )
        stack_file = project_dir / f"Pulumi.{primary_name}.yaml"
        mtime = stack_file.stat().st_mtime_ns if stack_file.exists() else 0
        role, outputs = _primary_outputs(primary_name, project_dir, (*_seen, stack), mtime)
        if role != "primary":
            raise ConfigError(
                f"{NAMESPACE}:primary_stack = {cfg.primary_stack!r} is invalid: that stack has role {role!r}, expected primary"
            )
        stack_outputs[primary_name] = outputs
    if cfg.site_stack:
        # A pilot-light backup stack also reads the Azure site it writes to.
        site_name = primary_stack_file(cfg.site_stack)
        if site_name in (*_seen, stack):
            raise ConfigError(
                f"{NAMESPACE}:site_stack = {cfg.site_stack!r} is invalid: it forms a cycle"
            )
        site = synthesize(site_name, (), project_dir, _seen=(*_seen, stack))
        stack_outputs[site_name] = MappingProxyType(site.outputs)

    box: dict[str, Any] = {}

    def target() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            box["result"] = _run_program(stack, flat, secret_keys, stack_outputs)
        except BaseException as exc:  # re-raised on the caller's thread
            box["error"] = exc
        finally:
            asyncio.get_event_loop().close()

    thread = threading.Thread(target=target, name=f"synth-{stack}")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: Synthesis = box["result"]
    result.primary_outputs = next(iter(stack_outputs.values()), None)
    return result


@functools.lru_cache(maxsize=64)
def _cached(stack: str, overrides: tuple[str, ...]) -> Synthesis:
    return synthesize(stack, overrides)


def cached_synthesize(stack: str, overrides: Sequence[str] = ()) -> Synthesis:
    """One synthesis per (stack, overrides) per process (each costs about a second)."""
    return _cached(stack, tuple(overrides))
