"""The platform stack an ECS tenant references, planned offline.

A tenant stack with `afrex:tenant.runtime: ecs` names its platform in
`afrex:platformStack` (`<organization>/afrex-platform/<stack>`). For the offline
plan that reference is answered by the platform's own offline plan: the platform
program (components/platform.py) run under the same mocks on
`platform/stacks/Pulumi.<stack>.yaml`. No cloud, no CLI, no fixture to keep in
step: a tenant sees exactly the outputs the platform program exports (with the
mocks' placeholder ids and ARNs). Each platform stack is planned once per process.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from afrex.errors import ConfigError
from afrex.spec import (
    DEFAULT_RUNTIME,
    PLATFORM_STACK_KEY,
    PLATFORM_STACK_PATTERN,
    TENANT_KEY,
    platform_stack_problem,
)
from afrex.stackfiles import Project, StackFile, read_stack
from afrex.yamlsafe import load_yaml_mapping

PLATFORM_FOLDER = "platform"
_PLANNED: dict[tuple[str, str], dict[str, Any]] = {}


def platform_folder(project_root: Path) -> Path | None:
    """The platform project (`platform/Pulumi.yaml`) of the project, else the one beside
    this code (a project of stacks only), else None."""
    beside_code = Path(__file__).resolve().parents[2] / PLATFORM_FOLDER
    for folder in (project_root / PLATFORM_FOLDER, beside_code):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return None


def platform_project(folder: Path) -> Project:
    """The platform project's name and stack folder, from its Pulumi.yaml."""
    manifest = folder / "Pulumi.yaml"
    data = load_yaml_mapping(manifest)
    name, stacks = data.get("name"), data.get("stackConfigDir", ".")
    if not isinstance(name, str) or not isinstance(stacks, str):
        raise ConfigError(str(manifest), ["name and stackConfigDir: must be strings"])
    return Project(root=folder, name=name, stack_dir=folder / stacks, defaults={})


def ecs_platform_reference(stack: StackFile, project: Project) -> str | None:
    """The platform stack an ECS tenant names (checked), or None for a Docker tenant."""
    config = stack.merged_config(project)
    tenant = config.get(TENANT_KEY)
    runtime = tenant.get("runtime", DEFAULT_RUNTIME) if isinstance(tenant, dict) else None
    if runtime != "ecs":
        return None
    reference = config.get(PLATFORM_STACK_KEY)
    problem = platform_stack_problem("ecs", reference)
    if problem:
        raise ConfigError(str(stack.path), [problem])
    return str(reference)


def referenced_outputs(stack: StackFile, project: Project) -> dict[str, dict[str, Any]]:
    """Outputs of the stacks `stack`'s program references, by referenced name."""
    reference = ecs_platform_reference(stack, project)
    if reference is None:
        return {}
    try:
        return {reference: platform_outputs(reference, project.root)}
    except ConfigError as error:
        raise ConfigError(
            str(stack.path), [f"{PLATFORM_STACK_KEY}: {problem}" for problem in error.lines()]
        ) from None


def platform_stack_file(reference: str, project_root: Path) -> tuple[StackFile, Project]:
    """The platform stack file a reference names; a ConfigError says what is missing."""
    match = PLATFORM_STACK_PATTERN.fullmatch(reference)
    if match is None:
        raise ConfigError(reference, ["not <organization>/<project>/<stack>"])
    folder = platform_folder(project_root)
    if folder is None:
        raise ConfigError(
            reference, [f"no platform project ({project_root / PLATFORM_FOLDER}/Pulumi.yaml)"]
        )
    platform = platform_project(folder)
    if match["project"] != platform.name:
        raise ConfigError(
            reference,
            [
                f"project {match['project']} is not the platform project {platform.name} "
                f"({folder / 'Pulumi.yaml'}); use <organization>/{platform.name}/<stack>"
            ],
        )
    path = platform.stack_path(match["stack"])
    if not path.is_file():
        known = sorted(p.name for p in platform.stack_dir.glob("Pulumi.*.yaml"))
        raise ConfigError(
            reference,
            [f"no platform stack file {path}; the platform's stacks: {', '.join(known) or 'none'}"],
        )
    return read_stack(path), platform


def platform_outputs(reference: str, project_root: Path) -> dict[str, Any]:
    """The platform stack's outputs from its offline plan (planned once per process)."""
    from afrex.catalog import load_catalog
    from afrex.offline.runtime import run_program
    from components.platform import main

    stack, platform = platform_stack_file(reference, project_root)
    content = hashlib.sha256(stack.path.read_bytes()).hexdigest() + load_catalog().digest
    key = (str(stack.path.resolve()), content)
    if key not in _PLANNED:
        planned = run_program(main, stack, platform)
        if planned.error is not None:
            raise ConfigError(
                reference, [f"the platform stack does not plan: {planned.error.splitlines()[0]}"]
            )
        _PLANNED[key] = planned.outputs
    return dict(_PLANNED[key])
