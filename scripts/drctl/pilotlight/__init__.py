"""Pilot-light backups (seed 001): mysqldump streamed to Azure Blob, and the restore."""
