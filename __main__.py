"""drstack Pulumi program: load the typed config, build the stack, export its outputs."""

import pulumi

from stacks import build
from stacks.config import load_config


def main() -> None:
    for name, value in build(load_config()).items():
        pulumi.export(name, value)


main()
