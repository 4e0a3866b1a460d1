"""Values only a live API can confirm, checked against lists shipped with a date.

A value newer than a list is not wrong: the config key ``drstack:allow_unlisted`` names
the values the operator has confirmed with the cloud (see the README, "Configuration").
Update a list by reading its source again and moving its ``AS_OF`` date.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class DatedList:
    what: str
    values: frozenset[str]
    as_of: str
    source: str

    def explain(self, value: str) -> str:
        return (
            f"not on drstack's list of {self.what} ({self.as_of}, {self.source}); if the "
            f"cloud has it now, list {value!r} in drstack:allow_unlisted"
        )


# Standard support on 2026-11-29 (14 months from the EKS release):
#   1.34  2025-10-02 .. 2026-12-02     1.35  2026-01-27 .. 2027-03-27
# 1.33 and older are in extended support (billed extra) or past it: 1.31's extended
# support ended 2026-11-26, so EKS no longer creates it.
EKS_STANDARD_SUPPORT = DatedList(
    what="EKS versions in standard support",
    values=frozenset({"1.34", "1.35"}),
    as_of="2026-11-29",
    source="https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
)

# RDS for MySQL: the majors (RDS picks the default minor) and the minors listed as
# supported. 8.0 left standard support on 2026-07-31 and is billed as Extended Support.
RDS_MYSQL_VERSIONS = DatedList(
    what="RDS for MySQL engine versions",
    values=frozenset(
        {"8.0", "8.4"}
        | {f"8.0.{minor}" for minor in range(36, 46)}
        | {f"8.4.{minor}" for minor in range(3, 10)}
    ),
    as_of="2026-11-29",
    source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html",
)

_T = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_TO_16 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_TO_24 = (*_TO_16, "24xlarge")
_TO_32 = (*_TO_24, "32xlarge")
_TO_48 = (*_TO_24, "48xlarge")
_RDS_MYSQL_FAMILIES: dict[str, tuple[str, ...]] = {
    "t3": _T, "t4g": _T,
    "m5": _TO_24, "m5d": _TO_24, "m6g": _TO_16, "m6gd": _TO_16,
    "m6i": _TO_32, "m6id": _TO_32, "m6idn": _TO_32, "m6in": _TO_32,
    "m7g": _TO_16, "m7i": _TO_48, "m8g": _TO_48,
    "r5": _TO_24, "r5b": _TO_24, "r5d": _TO_24, "r6g": _TO_16, "r6gd": _TO_16,
    "r6i": _TO_32, "r6id": _TO_32, "r6idn": _TO_32, "r6in": _TO_32,
    "r7g": _TO_16, "r7i": _TO_48, "r8g": _TO_48,
    "x2g": _TO_16, "x2idn": ("16xlarge", "24xlarge", "32xlarge"),
    "x2iedn": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "24xlarge", "32xlarge"),
    "z1d": ("large", "xlarge", "2xlarge", "3xlarge", "6xlarge", "12xlarge"),
}  # fmt: skip
RDS_MYSQL_INSTANCE_CLASSES = DatedList(
    what="DB instance classes of RDS for MySQL",
    values=frozenset(
        f"db.{family}.{size}" for family, sizes in _RDS_MYSQL_FAMILIES.items() for size in sizes
    ),
    as_of="2026-11-29",
    source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html",
)


@cache
def ec2_instance_types() -> DatedList:
    """EC2 instance types from the EC2 API model that botocore ships (pinned in the lock)."""
    import botocore
    import botocore.session

    model = botocore.session.get_session().get_service_model("ec2")
    return DatedList(
        what="EC2 instance types",
        values=frozenset(model.shape_for("InstanceType").enum),
        as_of=f"botocore {botocore.__version__}",
        source="the EC2 API's InstanceType enum",
    )
