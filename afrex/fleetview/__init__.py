"""The whole fleet in one view: `afrex fleet list | status | usage | issues | summary | show`.

`snapshot` joins the stack files (desired), the stack state (deployed) and the
live sources (Docker engines, CloudWatch alarms, S3 lifecycle rules) under one
deadline; `status`, `issues`, `summary`, `usage` and `show` turn a snapshot into
plain values for the CLI to render. Nothing here prints or exits.
"""
