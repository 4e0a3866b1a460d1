"""The app's TLS certificate: an ACM certificate validated by DNS in the hosted zone.

ACM certificates are regional (https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html):
Seoul and Tokyo each request their own for the same name. ACM gives the SAME validation
CNAME for the same name in every region of an account, so both stacks write one record:
``allow_overwrite`` lets the second stack adopt it, and ``retain_on_delete`` keeps it when
one stack is destroyed, because the other region's certificate renews against it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(kw_only=True)
class CertificateArgs:
    provider: aws.Provider
    domain: str
    zone: str
    tags: dict[str, str]


def _validation_option(index: int, field: str) -> Callable[[Sequence[Any]], str]:
    return lambda options: str(getattr(options[index], field))


def dns_validated_certificate(
    name: str, args: CertificateArgs, parent: pulumi.Resource
) -> pulumi.Output[str]:
    """The ARN of an issued certificate: it resolves only after ACM validated it."""
    opts = pulumi.ResourceOptions(parent=parent, provider=args.provider)
    cert = aws.acm.Certificate(
        f"{name}-cert",
        domain_name=args.domain,
        validation_method="DNS",
        key_algorithm="RSA_2048",
        tags={**args.tags, "Name": args.domain},
        # A replacement must exist before the load balancer lets go of the old one.
        opts=pulumi.ResourceOptions(
            parent=parent, provider=args.provider, delete_before_replace=False
        ),
    )
    zone = aws.route53.get_zone_output(
        name=args.zone,
        private_zone=False,
        opts=pulumi.InvokeOptions(parent=parent, provider=args.provider),
    )
    options = cert.domain_validation_options
    record = aws.route53.Record(
        f"{name}-cert-validation",
        zone_id=zone.zone_id,
        name=options.apply(_validation_option(0, "resource_record_name")),
        type=options.apply(_validation_option(0, "resource_record_type")),
        records=[options.apply(_validation_option(0, "resource_record_value"))],
        ttl=300,
        allow_overwrite=True,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)),
    )
    validation = aws.acm.CertificateValidation(
        f"{name}-cert-issued",
        certificate_arn=cert.arn,
        validation_record_fqdns=[record.fqdn],
        opts=opts,
    )
    return validation.certificate_arn
