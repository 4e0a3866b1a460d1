"""Detection and observability: Prometheus rules, Alertmanager/blackbox configs, dashboards.

Everything here is generated from the stack config (``Pulumi.<stack>.yaml``) and the
budget model (``policy.budget``) and checked in; tests prove the checked-in files are
current and run ``promtool`` on them.
"""
