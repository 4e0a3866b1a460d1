"""The local sandbox: real servers (MariaDB, Azurite, moto, the app) on 127.0.0.1."""
