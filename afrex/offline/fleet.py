"""Plan a whole fleet: cached tenants come from the cache, the rest are planned
across processes while the policy pack starts, then checked by the pack.

A tenant's cache key covers its stack file (name and bytes), the catalog, the
project file and the code (program, runtime, pack), so an entry is reused only
when nothing that could change its plan or its verdict has changed; and an entry
is used only if it reads back as exactly the plan it claims to be.

Worker processes die with this one and leave Ctrl-C to it; when planning stops
early (an error, Ctrl-C, SIGTERM), the workers are terminated, not waited for.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from afrex.catalog import Catalog
from afrex.errors import AfrexError, ConfigError
from afrex.offline.analyzer import PackInfo, Violation, find_policy_pack
from afrex.offline.cache import PlanCache
from afrex.offline.fingerprint import code_digest, package_dirs, tenant_key
from afrex.offline.plan import FleetPlan, TenantPlan
from afrex.offline.platformref import platform_folder
from afrex.offline.runtime import PlannedResource
from afrex.procs import ctrl_c_held, worker_pool
from afrex.stackfiles import Project, StackFile

# Below this many tenants to plan, starting worker processes (each imports the
# Pulumi SDKs, about a second) costs more than it saves.
PARALLEL_MIN = 8
CHUNK = 4
PACK_KEY = "policy-pack"
# Bounds a cached plan must respect (far beyond any real tenant) to be believed.
MAX_AGENTS = 10_000
MAX_MRR = Decimal(10) ** 12


@dataclass
class FleetRun:
    """A planned fleet and how it was planned (for the operator and the benchmark)."""

    fleet: FleetPlan
    bad_input: bool
    cached: int
    planned: int
    workers: int


def _plan_one(stack: StackFile, project: Project, catalog: Catalog) -> tuple[TenantPlan, bool]:
    """Plan a tenant; a config error becomes the tenant's error (flagged as bad input)."""
    from afrex.offline.plan import plan_tenant

    try:
        return plan_tenant(stack, project, catalog), False
    except AfrexError as error:
        bad_input = isinstance(error, ConfigError)
        return TenantPlan(stack=stack.name, error="\n".join(error.lines())), bad_input


def _plan_chunk(root: str, paths: list[str]) -> list[tuple[dict[str, Any], bool]]:
    """Worker: plan some stacks in a fresh process (the SDK is imported once per worker)."""
    from afrex.catalog import load_catalog
    from afrex.stackfiles import find_project, read_stack

    project, catalog = find_project(Path(root)), load_catalog()
    results = []
    for path in paths:
        tenant, bad = _plan_one(read_stack(Path(path)), project, catalog)
        results.append((tenant.to_cache(), bad))
    return results


def _planned(
    todo: list[StackFile], project: Project, catalog: Catalog, workers: int
) -> Iterator[tuple[TenantPlan, bool]]:
    """Plan stacks in this process, or across `workers` processes, as results arrive."""
    if workers <= 1 or len(todo) < PARALLEL_MIN:
        for stack in todo:
            yield _plan_one(stack, project, catalog)
        return
    chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
    with worker_pool(workers, "planning the fleet") as pool:
        with ctrl_c_held():  # workers (started on submit) boot deaf to Ctrl-C
            futures = [
                pool.submit(_plan_chunk, str(project.root), [str(s.path) for s in chunk])
                for chunk in chunks
            ]
        for future in as_completed(futures):
            for entry, bad in future.result():
                yield TenantPlan.from_cache(entry), bad


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def plan_fleet(
    project: Project,
    catalog: Catalog,
    stacks: list[StackFile],
    cache: PlanCache,
    workers: int | None = None,
) -> FleetRun:
    """Plan and policy-check every stack, reusing cached plans where nothing changed."""
    from afrex.offline.plan import policy_pack

    pack_dir = find_policy_pack(project.root)
    platform = platform_folder(project.root)  # ECS tenants' plans read its stacks
    folders = package_dirs() + [pack_dir] + ([platform] if platform else [])
    code = code_digest(folders, [project.root / "Pulumi.yaml"])
    keys = {s.name: tenant_key(s.path, catalog.digest, code) for s in stacks}
    results: dict[str, TenantPlan] = {}
    for stack in stacks:
        cached = cache.get(keys[stack.name], _tenant_reader(stack.name))
        if cached is not None:
            results[stack.name] = cached
    todo = [s for s in stacks if s.name not in results]
    bad_input = False
    info = _cached_pack_info(cache, code)
    count = workers or default_workers()
    if todo:
        with policy_pack(project, pack_dir) as pack:  # starts while the stacks are planned
            for tenant, bad in _planned(todo, project, catalog, count):
                bad_input = bad_input or bad
                if tenant.error is None:
                    tenant.violations = pack.analyze_stack(
                        project.name, tenant.stack, tenant.resources
                    )
                    cache.put(keys[tenant.stack], tenant.to_cache())
                results[tenant.stack] = tenant
            info = pack.info
            cache.put(f"{PACK_KEY}-{code}", asdict(info))
    if info is None and stacks:  # every plan cached, but not the pack's description
        with policy_pack(project, pack_dir) as pack:
            info = pack.info
        cache.put(f"{PACK_KEY}-{code}", asdict(info))
    fleet = FleetPlan([results[s.name] for s in stacks], policy=info)
    parallel = count if len(todo) >= PARALLEL_MIN else 1
    return FleetRun(fleet, bad_input, len(stacks) - len(todo), len(todo), parallel)


def _cached_pack_info(cache: PlanCache, code: str) -> PackInfo | None:
    return cache.get(f"{PACK_KEY}-{code}", _pack_info)


@cache
def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def _exact(entry: Any, kind: type[Any]) -> dict[str, Any]:
    """`entry`, if it is a JSON object with exactly the fields of the dataclass `kind`."""
    if not isinstance(entry, dict) or set(entry) != {f.name for f in fields(kind)}:
        raise ValueError(f"not a {kind.__name__}")
    return entry


def _tenant_reader(stack: str) -> Callable[[str], TenantPlan]:
    """A parser of cache entries that accepts only `stack`'s plan as `to_cache` writes
    it (every field and no other, each of its type, within bounds) and one every
    command can show; anything else raises."""

    def read(text: str) -> TenantPlan:
        entry = _exact(json.loads(text), TenantPlan)
        for resource in entry["resources"]:
            _exact(resource, PlannedResource)
        for violation in entry["violations"]:
            _exact(violation, Violation)
        tenant: TenantPlan = _adapter(TenantPlan).validate_python(entry)
        if tenant.stack != stack:
            raise ValueError(f"not the cached plan of {stack}")
        if not (0 <= tenant.agents <= MAX_AGENTS and 0 <= tenant.mrr <= MAX_MRR):
            raise ValueError("agents or MRR out of range")
        tenant.rows()  # every summary the commands show can be computed
        for violation in tenant.violations:
            violation.as_dict()
        return tenant

    return read


def _pack_info(text: str) -> PackInfo:
    info: PackInfo = _adapter(PackInfo).validate_python(_exact(json.loads(text), PackInfo))
    return info
