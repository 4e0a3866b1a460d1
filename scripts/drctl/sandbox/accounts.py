"""The database accounts production uses, with the grants the clouds document for them.

The sandbox's servers are MariaDB; production's are RDS for MySQL 8.0 and Azure Database
for MySQL Flexible Server. Every production step (backup, archive, replay, restore,
fence, failback) runs in the sandbox as one of these accounts, never as root, so a step
that needs a privilege the real account lacks fails here as it would there. Root only
sets servers up (and stands in for the cloud's control plane: RDS's promotion, the
parameter group that sets ``read_only``).

Sources (checked 2026-12; re-check before relying on a line, they change):
- RDS master user, MySQL 8.0.36+: RDS User Guide, "Master user account privileges"
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html
  and "Role-based privilege model for RDS for MySQL" (``rds_superuser_role``)
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.MySQL.CommonDBATasks.privilege-model.html
  No SUPER, no BINLOG_ADMIN, no CONNECTION_ADMIN, no SYSTEM_VARIABLES_ADMIN.
- Azure Flexible Server admin: "Create users in Azure Database for MySQL"
  https://learn.microsoft.com/azure/mysql/flexible-server/how-to-create-users
  No SUPER, no BINLOG_ADMIN, no REPLICATION_APPLIER, no DBA role.

MariaDB differs from MySQL 8 in privilege names. The nearest MariaDB equivalents are
granted and nothing more:
- MySQL's REPLICATION CLIENT (binlog positions and SHOW REPLICA STATUS) is split in
  MariaDB 10.5+ into BINLOG MONITOR and SLAVE MONITOR: both are granted.
- MySQL's SET_USER_ID is MariaDB's SET USER (10.5.2+).
- MySQL's APPLICATION_PASSWORD_ADMIN, ROLE_ADMIN, XA_RECOVER_ADMIN, CREATE ROLE and
  DROP ROLE have no MariaDB privilege of their own (CREATE USER covers roles there):
  they are not granted, and nothing drstack runs needs them.
- MariaDB's BINLOG REPLAY (the ``BINLOG '...'`` statement), SUPER, READ_ONLY ADMIN and
  CONNECTION ADMIN are exactly what these accounts lack: none is granted.
- Both accounts hold their privileges WITH GRANT OPTION: that is how each creates less
  privileged users, such as the app's. The RDS guide's earlier edition of the same page
  wrote the grant out as "... TRIGGER ON *.* WITH GRANT OPTION", and Azure's support
  blog shows the admin's grant with it:
  https://techcommunity.microsoft.com/t5/azure-database-support-blog/grant-super-privilege-on-azure-database-for-mysql/ba-p/368905
"""

from __future__ import annotations

from dataclasses import dataclass

# The privileges both clouds' admin accounts share (MySQL names mapped to MariaDB's).
_COMMON = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "PROCESS",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "SHOW DATABASES",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "REPLICATION SLAVE",
    "BINLOG MONITOR",  # REPLICATION CLIENT, binlog half
    "SLAVE MONITOR",  # REPLICATION CLIENT, replica-status half
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
    "TRIGGER",
)

RDS_MASTER_PRIVILEGES: tuple[str, ...] = (*_COMMON, "SET USER")
AZURE_ADMIN_PRIVILEGES: tuple[str, ...] = _COMMON
# What the sandbox's grants must never include for either account.
NEVER_GRANTED = ("SUPER", "BINLOG REPLAY", "BINLOG ADMIN", "READ_ONLY ADMIN", "CONNECTION ADMIN")

RDS_MASTER_USER = "rdsmaster"
AZURE_ADMIN_USER = "azureadmin"


@dataclass(frozen=True)
class Account:
    user: str
    privileges: tuple[str, ...]
    # RDS lists its MySQL master user's privileges "ON *.* WITH GRANT OPTION" (earlier
    # versions of "Master user account privileges"): it creates the app's user and grants
    # it a subset of its own (components/app_db_user.py).
    grant_option: bool = False

    def grant_statement(self) -> str:
        with_grant = " WITH GRANT OPTION" if self.grant_option else ""
        return f"GRANT {', '.join(self.privileges)} ON *.* TO '{self.user}'@'%'{with_grant}"


RDS_MASTER = Account(RDS_MASTER_USER, RDS_MASTER_PRIVILEGES, grant_option=True)
AZURE_ADMIN = Account(AZURE_ADMIN_USER, AZURE_ADMIN_PRIVILEGES, grant_option=True)

# The app's own account (DESIGN: "The app is not the master user"): DML on its database,
# plus CREATE for the app's CREATE TABLE IF NOT EXISTS at start. No global privilege, so
# ``read_only`` always binds it, whatever the master user's grants are.
APP_DATABASE_PRIVILEGES: tuple[str, ...] = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE")


def app_grant_statement(user: str, database: str) -> str:
    return f"GRANT {', '.join(APP_DATABASE_PRIVILEGES)} ON `{database}`.* TO '{user}'@'%'"
