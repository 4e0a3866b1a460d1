"""Route53Failover: a health-checked PRIMARY/SECONDARY failover record pair.

The PRIMARY record is gated by a calculated health check that is healthy only while
both of its children are:

* ``primary-health``: the HTTPS ``/health`` probe of the primary. Never inverted.
* ``failover-switch``: a calculated check with no children and threshold 0, which
  Route 53 always reports healthy. Forcing failover *inverts* it (always unhealthy).

Why not invert the HTTPS probe itself: during a real outage that probe is already
failing, and inverting it turns it *healthy*, sending traffic back to the dead primary.
With the gate, a forced failover and a dead primary both fail over. And never
``disabled``: Route 53 treats a disabled health check as healthy, so traffic would stay
on a dead primary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.settings import HealthCheckConfig

RECORD_TYPES = ("CNAME", "A")


@dataclass(kw_only=True)
class Route53FailoverArgs:
    zone_id: pulumi.Input[str]
    record_name: str
    # Host name the primary health check probes (the Seoul load balancer).
    primary_fqdn: pulumi.Input[str]
    primary_target: pulumi.Input[str]
    secondary_target: pulumi.Input[str]
    health_check: HealthCheckConfig
    ttl: int
    force_failover: bool
    # Route 53 publishes health-check metrics only in us-east-1: the alarm must live there.
    alarm_provider: aws.Provider
    primary_record_type: str = "CNAME"
    secondary_record_type: str = "CNAME"
    alarm_actions: Sequence[pulumi.Input[str]] = ()
    # Off where another component owns the alarm on this health check (the warm
    # standby's FailoverAutomation, whose evaluation periods are seed 004's guard).
    create_alarm: bool = True
    tags: dict[str, str] = field(default_factory=dict)


class Route53Failover(pulumi.ComponentResource):
    health_check_id: pulumi.Output[str]
    switch_health_check_id: pulumi.Output[str]
    gate_health_check_id: pulumi.Output[str]
    record_fqdn: pulumi.Output[str]
    alarm_name: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: Route53FailoverArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drstack:route53_failover:Route53Failover", name, None, opts)
        for kind in (args.primary_record_type, args.secondary_record_type):
            if kind not in RECORD_TYPES:
                raise ValueError(f"record type {kind!r} is not one of {RECORD_TYPES}")
        child = pulumi.ResourceOptions(parent=self)

        health_check, switch, gate = self._health_checks(name, args, child)
        records = self._records(name, args, gate, child)
        self.alarm_name = self._alarm(name, args, health_check) if args.create_alarm else None

        self.health_check_id = health_check.id
        self.switch_health_check_id = switch.id
        self.gate_health_check_id = gate.id
        self.record_fqdn = records["primary"].fqdn
        self.register_outputs(
            {
                "health_check_id": self.health_check_id,
                "switch_health_check_id": self.switch_health_check_id,
                "record_fqdn": self.record_fqdn,
            }
        )

    @staticmethod
    def _health_checks(
        name: str, args: Route53FailoverArgs, child: pulumi.ResourceOptions
    ) -> tuple[aws.route53.HealthCheck, aws.route53.HealthCheck, aws.route53.HealthCheck]:
        """The HTTPS probe, the failover switch, and the gate (probe AND switch) that the
        primary record follows."""
        hc = args.health_check
        health_check = aws.route53.HealthCheck(
            f"{name}-primary-health",
            type="HTTPS",
            fqdn=args.primary_fqdn,
            port=hc.port,
            resource_path=hc.path,
            request_interval=hc.interval,
            failure_threshold=hc.failure_threshold,
            # SNI must be on for an HTTPS check of a TLS endpoint behind an ALB/NLB. The
            # fqdn is the load balancer's own name, which the app's certificate does not
            # cover: Route 53 then retries the handshake without the name (EnableSNI in the
            # Route 53 API reference), so the probe passes as long as the listener speaks
            # TLS. It can never pass on a plain-TCP 443 listener:
            # the https-probe-needs-tls policy refuses that configuration.
            enable_sni=True,
            invert_healthcheck=False,
            disabled=False,
            tags={**args.tags, "Name": f"{args.record_name}-primary", "HealthCheckRole": "probe"},
            opts=child,
        )
        switch = aws.route53.HealthCheck(
            f"{name}-failover-switch",
            type="CALCULATED",
            # No children and a threshold of 0: Route 53 always reports it healthy, so
            # inverting it is a clean "force failover" lever.
            child_healthchecks=[],
            child_health_threshold=0,
            invert_healthcheck=args.force_failover,
            disabled=False,
            tags={
                **args.tags,
                "Name": f"{args.record_name}-failover-switch",
                "HealthCheckRole": "switch",
            },
            opts=child,
        )
        gate = aws.route53.HealthCheck(
            f"{name}-primary-gate",
            type="CALCULATED",
            child_healthchecks=[health_check.id, switch.id],
            child_health_threshold=2,
            invert_healthcheck=False,
            disabled=False,
            tags={
                **args.tags,
                "Name": f"{args.record_name}-primary-gate",
                "HealthCheckRole": "gate",
            },
            opts=child,
        )
        return health_check, switch, gate

    @staticmethod
    def _records(
        name: str,
        args: Route53FailoverArgs,
        gate: aws.route53.HealthCheck,
        child: pulumi.ResourceOptions,
    ) -> dict[str, aws.route53.Record]:
        records = {}
        for role, target, kind, check in (
            ("primary", args.primary_target, args.primary_record_type, gate.id),
            ("secondary", args.secondary_target, args.secondary_record_type, None),
        ):
            records[role] = aws.route53.Record(
                f"{name}-{role}",
                zone_id=args.zone_id,
                name=args.record_name,
                type=kind,
                ttl=args.ttl,
                records=[target],
                set_identifier=role,
                failover_routing_policies=[
                    aws.route53.RecordFailoverRoutingPolicyArgs(type=role.upper())
                ],
                health_check_id=check,
                opts=child,
            )
        return records

    def _alarm(
        self, name: str, args: Route53FailoverArgs, health_check: aws.route53.HealthCheck
    ) -> pulumi.Output[str]:
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-primary-health-alarm",
            name=f"{args.record_name}-primary-unhealthy",
            alarm_description=f"Route 53 health check for the primary of {args.record_name} is failing",
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions={"HealthCheckId": health_check.id},
            statistic="Minimum",
            period=60,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="LessThanThreshold",
            # No data from the checker is itself a failure signal.
            treat_missing_data="breaching",
            alarm_actions=list(args.alarm_actions),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, provider=args.alarm_provider),
        )
        return alarm.name
