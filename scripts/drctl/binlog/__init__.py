"""Continuous binlog archiving to Azure Blob and point-in-time replay."""
