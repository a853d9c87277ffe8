"""The fleet's tenants, fast: the one door's verdicts remembered by content.

A status screen re-reads a thousand stack files every few seconds, and parsing
YAML and validating each contract is most of that time. So the fleet views keep
each tenant the door (`afrex.tenants`) accepted, keyed by everything the verdict
depends on: the stack file's name and bytes, the catalog, the project's config
defaults, `$DOCKER_HOST` (the default engine) and the source of the door's own
modules. A changed byte, catalog, rule or setting is a different key, so the
door reads that file again; nothing else is ever reused.

The door's other checks run every time: stack files are listed by
`stackfiles.stack_paths` (a `.yml` file is refused), read by
`yamlsafe.read_regular_file` (regular, bounded files only), and checked against
each other by `check_one_file_per_tenant`. A file the door refuses is never
cached, and its error is the door's. Entries are validated by the door when
written; the cache is one JSON file under the plan cache's folder, written
atomically, holding this run's entries only. Dates the door accepted stay
acceptable as time passes (the door only refuses dates ahead of the clock).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from afrex import catalog as catalog_module
from afrex import spec as spec_module
from afrex import stackfiles as stackfiles_module
from afrex import tenants as tenants_module
from afrex import yamlsafe as yamlsafe_module
from afrex.atomicfiles import write_atomic
from afrex.catalog import Catalog
from afrex.errors import BadInput
from afrex.spec import PlanChange, TenantSpec
from afrex.stackfiles import (
    Project,
    StackFile,
    check_one_file_per_tenant,
    read_other,
    read_stack,
    stack_paths,
)
from afrex.tenants import Tenant, check_tenant_id, load_tenants, tenant_from_stack
from afrex.yamlsafe import read_regular_file

CACHE_ENV = "AFREX_CACHE_DIR"
DOOR = (catalog_module, spec_module, stackfiles_module, tenants_module, yamlsafe_module)
DATE_TAG = "$datetime"


def cache_file(project: Project) -> Path:
    base = os.environ.get(CACHE_ENV)
    return (Path(base) if base else project.root / ".afrex-cache") / "fleet" / "tenants.json"


def _door_digest() -> str:
    digest = hashlib.sha256()
    for module in DOOR:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def _encode(value: Any) -> Any:
    """Config as JSON; YAML's timestamps tagged so they come back as datetimes."""
    if isinstance(value, datetime):
        return {DATE_TAG: value.isoformat()}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {DATE_TAG}:
            return datetime.fromisoformat(value[DATE_TAG])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _entry(tenant: Tenant) -> dict[str, Any]:
    stack = tenant.stack
    config = _encode(stack.config)
    return {
        "config": config,
        "dated": DATE_TAG in json.dumps(config),
        "secret_keys": sorted(stack.secret_keys),
        "salt": stack.encryption_salt,
        "spec": tenant.spec.model_dump(mode="json"),
        "docker_host": tenant.docker_host,
        "alert_email": tenant.alert_email,
        "config_digest": tenant.config_digest,
    }


def _tenant(entry: dict[str, Any], name: str, path: Path) -> Tenant:
    """A tenant from its entry, without parsing or validating again (see the docstring)."""
    info = path.stat()
    stack = StackFile(
        name,
        path,
        _decode(entry["config"]) if entry["dated"] else entry["config"],
        frozenset(entry["secret_keys"]),
        entry["salt"],
        (info.st_dev, info.st_ino),
    )
    raw = dict(entry["spec"])
    history = [
        PlanChange.model_construct(**{**h, "effective": datetime.fromisoformat(h["effective"])})
        for h in raw.pop("history")
    ]
    spec = TenantSpec.model_construct(**raw, history=history)
    if spec.tenant_id != name:
        raise ValueError("not this stack's entry")
    return Tenant(stack, spec, entry["docker_host"], entry["alert_email"], entry["config_digest"])


class TenantCache:
    """Entries by content key; `save` keeps only the ones used in this run."""

    def __init__(self, project: Project, catalog: Catalog) -> None:
        self.path = cache_file(project)
        self.salt = json.dumps(
            [catalog.digest, project.defaults, os.environ.get("DOCKER_HOST"), _door_digest()],
            sort_keys=True,
            default=str,
        ).encode()
        try:
            loaded = json.loads(self.path.read_bytes())
            self.entries: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self.entries = {}
        self.used: dict[str, Any] = {}
        self.changed = False

    def key(self, name: str, data: bytes) -> str:
        return hashlib.sha256(b"\0".join((name.encode(), data, self.salt))).hexdigest()

    def get(self, key: str, name: str, path: Path) -> Tenant | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        try:
            tenant = _tenant(entry, name, path)
        except (KeyError, TypeError, ValueError, OSError):
            return None
        self.used[key] = entry
        return tenant

    def put(self, key: str, tenant: Tenant) -> None:
        self.used[key] = _entry(tenant)
        self.changed = True

    def save(self) -> None:
        if not self.changed and len(self.used) == len(self.entries):
            return
        try:
            write_atomic(self.path, json.dumps(self.used, sort_keys=True))
        except OSError:
            pass  # a cache that cannot be written only costs speed


def load_tenants_fast(
    project: Project, catalog: Catalog, only: Sequence[str] | None = None
) -> list[Tenant]:
    """`load_tenants(project, catalog, only)`, with the door's verdicts remembered."""
    names = [check_tenant_id(name) for name in only] if only else None
    found = stack_paths(project)
    if names and any(name not in found for name in names):
        return load_tenants(project, catalog, names)  # the door names what is missing
    cache = TenantCache(project, catalog)
    wanted = list(dict.fromkeys(names)) if names else list(found)
    wanted_set = set(wanted)
    chosen: dict[str, Tenant] = {}
    others: list[StackFile] = []
    for name, path in found.items():
        is_wanted = name in wanted_set
        try:
            data = read_regular_file(path)
        except BadInput:
            if is_wanted:
                raise
            continue
        key = cache.key(name, data)
        tenant = cache.get(key, name, path)
        if tenant is None and is_wanted:
            tenant = tenant_from_stack(read_stack(path), project, catalog)
            if read_regular_file(path) == data:  # unchanged while the door read it
                cache.put(key, tenant)
        if is_wanted and tenant is not None:
            chosen[name] = tenant
        elif tenant is not None:
            others.append(tenant.stack)
        elif (other := read_other(path)) is not None:
            others.append(other)
    check_one_file_per_tenant([chosen[name].stack for name in wanted], others)
    cache.save()
    return [chosen[name] for name in wanted]
