"""Backups of agent state in each tenant's S3 bucket.

Layout in the tenant's bucket (its stack output `bucketName`):

    backups/<YYYYMMDD-HHMMSS>/<agent>.tar.gz   one archive per agent (afrex/archive.py)
    backups/<YYYYMMDD-HHMMSS>/manifest.json    written last: agents, sizes, SHA-256s,
                                               catalog digest, tool version
    archived-agents/<agent>/<stamp>.tar.gz     scale-down archives (and <key>.sha256)

A backup without its manifest is incomplete (interrupted or failed): it is
listed as such and never offered for restore. The bucket's lifecycle rule
expires everything at the catalog's retention.

Modules: `manifest` (ids, keys, the manifest document), `store` (reading a
bucket), `create`, `listing`, `restore` (with `agentstate`, the engine side),
`export`, `retention`, and `fleet` (walking tenants in parallel).
"""
