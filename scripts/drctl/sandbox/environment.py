"""The sandbox's stand-ins, started on 127.0.0.1 and described by a stack-outputs file.

Shared for a whole drill: moto (Route 53 health checks + the DynamoDB lock table) and
Azurite (the ``mysql-backups`` container). Per scenario, fresh "regions": a MariaDB
primary in Seoul with a GTID replica in Tokyo, and the app once per region, so every
scenario starts from a healthy, independent setup.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.storage.blob import ContainerClient

from drctl.failover.lock import DynamoDbLock
from drctl.failover.primary_probe import PrimaryRegionProbe
from drctl.failover.route53 import Route53DnsSwitch
from drctl.mysql_dsn import MySQLDsn
from drctl.pilotlight.storage import AZURITE_ACCOUNT, DEFAULT_CONTAINER, open_container
from drctl.sandbox.accounts import AZURE_ADMIN, RDS_MASTER, Account
from drctl.sandbox.app_process import DATABASE, AppProcess
from drctl.sandbox.azurite import AzuriteServer
from drctl.sandbox.endpoints import EndpointDirectory, EndpointProxy
from drctl.sandbox.mariadb import MariaDBServer
from drctl.sandbox.moto_server import MotoServer, SandboxClientFactory
from drctl.sandbox.processes import ProcessSupervisor

ACCOUNT = "000000000000"
REGIONS = {"seoul": "ap-northeast-2", "tokyo": "ap-northeast-1", "azure": "koreacentral"}
ROUTE53_REGION = "us-east-1"
LOCK_TABLE = "drstack-failover-lock"
PRIMARY_DB_ID = "seoul-db"
ZONE = "portforge.sandbox"


# --- which account each production step logs in as ---------------------------------
# The sandbox hands a step the DSN of the account production gives it (the component
# that deploys the step says which secret), never root's.


def backup_source_dsn(db: MariaDBServer, database: str = "") -> MySQLDsn:
    """The backup CronJob reads the RDS master secret (components/backup_job.py,
    ``source_secret_arn`` = ``rds_master_secret_arn``)."""
    return db.master_dsn(database)


def archiver_source_dsn(db: MariaDBServer) -> MySQLDsn:
    """The binlog archiver Deployment reuses the backup job's secret-to-DSN step on the
    same master secret (components/binlog_archiver.py); it needs REPLICATION SLAVE for
    the binlog dump and REPLICATION CLIENT for SHOW BINARY LOGS, which the master holds."""
    return db.master_dsn()


def restore_target_dsn(db: MariaDBServer, database: str = "") -> MySQLDsn:
    """The restore job (dump and binlog replay) connects as the Flexible Server admin
    (components/azure_restore_job.py, ``admin_user``)."""
    return db.master_dsn(database)


def fence_dsn(db: MariaDBServer) -> MySQLDsn:
    """The planned fence's checks (``@@global.read_only``, the position under the fence)
    run as the master user; setting ``read_only`` is the parameter group's (root)."""
    return db.master_dsn()


def failback_dsn(db: MariaDBServer) -> MySQLDsn:
    """Failback's reads (replica status, executed GTIDs) run as the master user; RDS's
    promotion itself is the control plane's (root)."""
    return db.master_dsn()


def cloud_account(name: str) -> Account:
    """Seoul and Tokyo are RDS for MySQL; the pilot light's server is Azure's."""
    return AZURE_ADMIN if name == "azure" else RDS_MASTER


@dataclass
class WarmStandby:
    seoul_db: MariaDBServer
    tokyo_db: MariaDBServer
    seoul_app: AppProcess
    tokyo_app: AppProcess
    # The Seoul database rebuilt as a replica of Tokyo for failback (it outlives the
    # failback process, as an RDS instance would).
    seoul_rebuilt: MariaDBServer | None = None


@dataclass
class SandboxEnvironment:
    workdir: Path
    supervisor: ProcessSupervisor
    moto: MotoServer | None = None
    primary_moto: MotoServer | None = None  # Seoul's own AWS API (region-dark scenario)
    azurite: AzuriteServer | None = None
    aws: SandboxClientFactory | None = None
    health_checks: dict[str, str] = field(default_factory=dict)  # DR stack -> probe id
    switches: dict[str, str] = field(default_factory=dict)  # DR stack -> failover switch id
    hosted_zone_id: str = ""
    servers: list[MariaDBServer] = field(default_factory=list)
    apps: dict[str, AppProcess] = field(default_factory=dict)
    # RDS endpoint names: identifier -> server, and the "DNS name" Seoul's app uses.
    endpoints: EndpointDirectory = field(default_factory=EndpointDirectory)
    proxies: list[EndpointProxy] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # --- shared -----------------------------------------------------------------

    def start_shared(self, *, with_azurite: bool = True) -> None:
        self.moto = MotoServer(self.supervisor)
        self.moto.start()
        if with_azurite:  # only the pilot-light scenario needs Blob storage
            self.azurite = AzuriteServer(self.supervisor, self.workdir / "azurite")
            self.azurite.start()
        self.aws = SandboxClientFactory(self.moto.endpoint)
        route53 = self.aws.client("route53", ROUTE53_REGION)
        zone = route53.create_hosted_zone(Name=ZONE, CallerReference=uuid.uuid4().hex)
        self.hosted_zone_id = zone["HostedZone"]["Id"].split("/")[-1]
        for stack in ("tokyo", "azure-pilot"):
            # The same shape as Route53Failover: the primary's probe, and the always-
            # healthy calculated switch that failover inverts.
            probe = route53.create_health_check(
                CallerReference=uuid.uuid4().hex,
                HealthCheckConfig={
                    "Type": "HTTP",
                    "FullyQualifiedDomainName": f"seoul.{ZONE}",
                    "Port": 80,
                    "ResourcePath": "/health",
                    "RequestInterval": 10,
                    "FailureThreshold": 3,
                },
            )
            switch = route53.create_health_check(
                CallerReference=uuid.uuid4().hex,
                HealthCheckConfig={
                    "Type": "CALCULATED",
                    "HealthThreshold": 0,
                    "ChildHealthChecks": [],
                },
            )
            self.health_checks[stack] = probe["HealthCheck"]["Id"]
            self.switches[stack] = switch["HealthCheck"]["Id"]
        self.aws.client("dynamodb", REGIONS["tokyo"]).create_table(
            TableName=LOCK_TABLE,
            AttributeDefinitions=[{"AttributeName": "lock_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "lock_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        if with_azurite:
            self.backup_container()

    def dns_switch(self, stack: str) -> Route53DnsSwitch:
        assert self.aws is not None
        return Route53DnsSwitch(self.aws.client("route53", ROUTE53_REGION), self.switches[stack])

    def lock(self) -> DynamoDbLock:
        assert self.aws is not None
        return DynamoDbLock(self.aws.client("dynamodb", REGIONS["tokyo"]), LOCK_TABLE)

    def backup_container(self) -> ContainerClient:
        assert self.azurite is not None
        return open_container(self.azurite.connection_string, DEFAULT_CONTAINER, create=True)

    def reset_routing(self) -> None:
        """Between scenarios: traffic back on Seoul, no stale lock."""
        for stack in self.switches:
            self.dns_switch(stack).revert()
        holder = self.lock().holder()
        if holder is not None:
            self.lock().release(holder.owner)

    # --- the primary region's AWS API ------------------------------------------

    def start_primary_aws(self) -> MotoServer:
        """Serve Seoul's AWS APIs from their own moto server, so Seoul can go dark alone.

        It holds what the runbook could ask Seoul about: the primary RDS instance.
        """
        assert self.aws is not None
        server = MotoServer(self.supervisor)
        server.start()
        self.primary_moto = server
        self.aws.region_endpoints[REGIONS["seoul"]] = server.endpoint
        rds = self.aws.client("rds", REGIONS["seoul"])
        rds.create_db_instance(
            DBInstanceIdentifier=PRIMARY_DB_ID,
            Engine="mysql",
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword=uuid.uuid4().hex,  # moto's record only; never used
        )
        return server

    def primary_probe(self) -> PrimaryRegionProbe:
        assert self.aws is not None
        seoul_app = self.apps.get("seoul")
        return PrimaryRegionProbe(
            self.aws.client("rds", REGIONS["seoul"]),
            PRIMARY_DB_ID,
            seoul_app.url if seoul_app else None,
            http_timeout_seconds=1.0,
        )

    # --- regions ----------------------------------------------------------------

    def new_database(self, name: str, like: MariaDBServer | None = None) -> MariaDBServer:
        """``like``: a replica of that server. On RDS a replica carries its source's users
        and passwords (they replicate): the app's one login works on every copy."""
        server_id = next(self._ids)
        server = MariaDBServer(
            self.supervisor,
            self.workdir / f"{name}-{server_id}",
            f"{name}-db",
            server_id,
            account=cloud_account(name),
        )
        if like is not None:
            server.app_password = like.app_password
        server.start()
        server.create_accounts()
        self.servers.append(server)
        return server

    def new_app(self, region: str, role: str, db: MariaDBServer) -> AppProcess:
        return self._start_app(region, role, db.app_dsn(DATABASE))

    def new_app_at_endpoint(self, region: str, role: str, name: str) -> AppProcess:
        """An app whose DB_HOST is the endpoint name ``name`` (as the stacks wire
        ``rds_address``): it follows whatever instance holds that identifier."""
        server = self.endpoints.resolve(name)
        assert server is not None, name
        proxy = EndpointProxy(self.endpoints, name)
        self.proxies.append(proxy)
        return self._start_app(region, role, proxy.dsn(server.app_dsn(DATABASE)))

    def _start_app(self, region: str, role: str, dsn: MySQLDsn) -> AppProcess:
        app = AppProcess(self.supervisor, region, role, dsn)
        app.start()
        self.apps[region] = app
        return app

    def warm_standby(self) -> WarmStandby:
        seoul_db = self.new_database("seoul")
        tokyo_db = self.new_database("tokyo", like=seoul_db)
        tokyo_db.replicate_from(seoul_db)
        seoul_db.execute(f"CREATE DATABASE {DATABASE}")
        self.endpoints = EndpointDirectory()
        self.endpoints.register(PRIMARY_DB_ID, seoul_db)
        seoul_app = self.new_app_at_endpoint("seoul", "primary", PRIMARY_DB_ID)
        tokyo_app = self.new_app("tokyo", "dr", tokyo_db)
        return WarmStandby(seoul_db, tokyo_db, seoul_app, tokyo_app)

    def pilot_primary(self) -> tuple[MariaDBServer, AppProcess]:
        seoul_db = self.new_database("seoul")
        seoul_db.execute(f"CREATE DATABASE {DATABASE}")
        return seoul_db, self.new_app("seoul", "primary", seoul_db)

    def teardown_regions(self) -> None:
        for app in list(self.apps.values()):
            app.stop()
        self.apps.clear()
        for proxy in self.proxies:
            proxy.close()
        self.proxies.clear()
        for server in self.servers:
            server.remove()
        self.servers.clear()
        if self.primary_moto is not None:
            self.primary_moto.stop()
            self.primary_moto = None
            if self.aws is not None:
                self.aws.region_endpoints.clear()

    def stop(self) -> None:
        self.teardown_regions()
        self.supervisor.stop_all()

    # --- outputs ----------------------------------------------------------------

    def outputs(self) -> dict[str, Any]:
        """The stacks' output shape (DESIGN "Stack outputs"), pointing at the stand-ins."""
        assert self.moto is not None

        def app_url(region: str) -> str:
            app = self.apps.get(region)
            return app.url if app is not None else ""

        def db(name: str) -> MariaDBServer | None:
            return next((s for s in reversed(self.servers) if s.name == f"{name}-db"), None)

        seoul_db, tokyo_db, azure_db = db("seoul"), db("tokyo"), db("azure")
        aws_extras = {"aws_endpoint_url": self.moto.endpoint, "sandbox": True}
        record = f"api.{ZONE}"
        return {
            "seoul": {
                "region": REGIONS["seoul"],
                "eks_cluster_name": "sandbox-seoul (app process)",
                "app_url": app_url("seoul"),
                "rds_instance_id": "seoul-db",
                "rds_instance_arn": f"arn:aws:rds:{REGIONS['seoul']}:{ACCOUNT}:db:seoul-db",
                "dynamodb_table_names": {},
                "bucket_names": {},
                "ecr_repository_names": [],
                "secret_arns": {},
                "kubeconfig": "",
                "db_endpoint": f"127.0.0.1:{seoul_db.port}" if seoul_db else "",
                **aws_extras,
                **(
                    {"aws_endpoint_url": self.primary_moto.endpoint}
                    if self.primary_moto is not None
                    else {}
                ),
            },
            "tokyo": {
                "region": REGIONS["tokyo"],
                "strategy": "warm-standby",
                "eks_cluster_name": "sandbox-tokyo (app process)",
                "app_url": app_url("tokyo"),
                "replica_instance_id": "tokyo-db",
                "replica_instance_arn": f"arn:aws:rds:{REGIONS['tokyo']}:{ACCOUNT}:db:tokyo-db",
                "dynamodb_table_names": {},
                "dr_bucket_names": {},
                "health_check_id": self.health_checks.get("tokyo", ""),
                "failover_switch_id": self.switches.get("tokyo", ""),
                "hosted_zone_id": self.hosted_zone_id,
                "record_fqdn": record,
                "failover_function_name": "",
                "kubeconfig": "",
                "lock_table_name": LOCK_TABLE,
                "deployments": {"tokyo-app": 1},
                "standby_deployments": {"tokyo-app": 1},
                "db_endpoint": f"127.0.0.1:{tokyo_db.port}" if tokyo_db else "",
                **aws_extras,
            },
            "azure-pilot": {
                "location": REGIONS["azure"],
                "resource_group_name": "drstack-sandbox",
                "storage_account_name": AZURITE_ACCOUNT,
                "backup_container": DEFAULT_CONTAINER,
                "blob_endpoint": self.azurite.blob_endpoint if self.azurite else "",
                "health_check_id": self.health_checks.get("azure-pilot", ""),
                "failover_switch_id": self.switches.get("azure-pilot", ""),
                "record_fqdn": record,
                **(
                    {
                        "mysql_server_fqdn": f"127.0.0.1:{azure_db.port}",
                        "app_gateway_ip": "127.0.0.1",
                    }
                    if azure_db
                    else {}
                ),
            },
        }

    def write_outputs(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.outputs(), indent=2) + "\n", encoding="utf-8")
