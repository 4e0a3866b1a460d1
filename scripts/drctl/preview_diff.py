"""What a toggle changes: the resources and outputs that differ between two syntheses.

``drctl preview --diff`` synthesizes the stack as shipped and the stack with the ``--set``
overrides, and compares them the way ``pulumi preview --diff`` reports a plan: resources
to create (``+``), update (``~``, with the changed input paths, old → new) or delete
(``-``). Resources are matched by URN, as the engine matches them against its state.
Whether an update is done in place or as a replacement is the provider's call at ``up``
time (its schema knows which inputs force a new resource); this diff names the inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from drctl.synth import ResourceRecord, Synthesis

Operation = Literal["create", "update", "delete"]
SYMBOL: dict[Operation, str] = {"create": "+", "update": "~", "delete": "-"}
_MISSING = object()


@dataclass(frozen=True)
class InputChange:
    path: str
    old: Any
    new: Any

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class ResourceChange:
    op: Operation
    urn: str
    type: str
    name: str
    region: str | None
    inputs: tuple[InputChange, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "region": self.region,
            "changes": [c.as_json() for c in self.inputs],
        }


@dataclass(frozen=True)
class StackDiff:
    stack: str
    overrides: tuple[str, ...]
    resources: list[ResourceChange] = field(default_factory=list)
    # Overrides set on both sides (the previous phase): the diff is against them.
    base: tuple[str, ...] = ()
    outputs: list[InputChange] = field(default_factory=list)

    def count(self, op: Operation) -> int:
        return sum(1 for r in self.resources if r.op == op)

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "overrides": list(self.overrides),
            "base": list(self.base),
            "resources": [r.as_json() for r in self.resources],
            "outputs": [o.as_json() for o in self.outputs],
            "summary": {op: self.count(op) for op in SYMBOL},
        }


def key_paths(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Flatten inputs to readable key paths: ``tags.Stack``, ``ingress[0].fromPort``.
    Empty mappings and lists are leaves, so adding the first element shows as a change."""
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from key_paths(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from key_paths(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def changed_paths(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[InputChange, ...]:
    before = dict(key_paths(old))
    after = dict(key_paths(new))
    return tuple(
        InputChange(path, before.get(path), after.get(path))
        for path in sorted(before.keys() | after.keys())
        if before.get(path, _MISSING) != after.get(path, _MISSING)
    )


def _change(
    op: Operation, record: ResourceRecord, inputs: tuple[InputChange, ...] = ()
) -> ResourceChange:
    return ResourceChange(op, record.urn, record.type, record.name, record.region, inputs)


def diff_syntheses(
    base: Synthesis,
    changed: Synthesis,
    overrides: tuple[str, ...],
    base_overrides: tuple[str, ...] = (),
) -> StackDiff:
    """Resources and outputs of ``changed`` that differ from ``base``, in program order."""
    old = {r.urn: r for r in base.resources if not r.read}
    new = {r.urn: r for r in changed.resources if not r.read}
    resources: list[ResourceChange] = []
    for urn, record in new.items():
        if urn not in old:
            resources.append(_change("create", record))
        else:
            inputs = changed_paths(old[urn].display_inputs, record.display_inputs)
            if inputs:
                resources.append(_change("update", record, inputs))
    resources.extend(_change("delete", r) for urn, r in old.items() if urn not in new)
    outputs = changed_paths(
        {k: v for k, v in base.display_outputs().items()},
        {k: v for k, v in changed.display_outputs().items()},
    )
    return StackDiff(
        changed.stack, overrides, resources, outputs=list(outputs), base=base_overrides
    )
