"""Write a tenant's stack file: the contract reviewed in git.

Secrets (the gateway token, the local profile's dummy AWS secret key) are
encrypted with the stack's passphrase exactly as `pulumi config set --secret`
would, so a real `pulumi up` reads the file unchanged.
"""

from __future__ import annotations

import secrets
from typing import Any

import yaml

from afrex.passphrase import PassphraseCrypter
from afrex.spec import TENANT_KEY, TOKEN_KEY

LOCAL_AWS_ENDPOINT = "http://127.0.0.1:5000"
LOCAL_DOCKER_HOST = "unix:///run/podman/podman.sock"
LOCAL_AWS_SERVICES = ("cloudwatch", "iam", "s3", "sns", "sts")


def local_profile(
    aws_endpoint: str = LOCAL_AWS_ENDPOINT, docker_host: str = LOCAL_DOCKER_HOST
) -> dict[str, Any]:
    """Provider config for a laptop: moto's server on 127.0.0.1 and the local socket."""
    return {
        "aws:region": "us-east-1",
        "aws:accessKey": "afrex-local",
        "aws:skipCredentialsValidation": True,
        "aws:skipRequestingAccountId": True,
        "aws:s3UsePathStyle": True,
        "aws:endpoints": [dict.fromkeys(LOCAL_AWS_SERVICES, aws_endpoint)],
        "docker:host": docker_host,
    }


def render_stack_file(
    tenant: dict[str, Any],
    passphrase: str,
    provider_config: dict[str, Any],
    secret_config: dict[str, str] | None = None,
    gateway_token: str | None = None,
) -> str:
    """The YAML text of a new stack file (fresh salt, fresh token unless given)."""
    crypter = PassphraseCrypter.new(passphrase)
    token = gateway_token or secrets.token_urlsafe(32)
    config: dict[str, Any] = {TENANT_KEY: tenant, TOKEN_KEY: {"secure": crypter.encrypt(token)}}
    config.update(provider_config)
    for key, value in (secret_config or {}).items():
        config[key] = {"secure": crypter.encrypt(value)}
    document = {"secretsprovider": "passphrase", "encryptionsalt": crypter.state, "config": config}
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=100)
