"""The fleet as data: `Pulumi.yaml` and the stack files in `stacks/`.

Reads the project (name, config defaults, where stack files live) and each
`stacks/Pulumi.<tenant id>.yaml`. Secure values are kept as ciphertext and
marked secret; nothing here decrypts them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from afrex.errors import BadInput, ConfigError

PROJECT_ENV = "AFREX_PROJECT"


@dataclass(frozen=True)
class Project:
    """The Pulumi project: its folder, name, stack folder and config defaults."""

    root: Path
    name: str
    stack_dir: Path
    defaults: dict[str, Any]

    def stack_path(self, stack: str) -> Path:
        return self.stack_dir / f"Pulumi.{stack}.yaml"


@dataclass(frozen=True)
class StackFile:
    """One stack's config file, parsed; secure values stay encrypted."""

    name: str
    path: Path
    config: dict[str, Any]
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    encryption_salt: str | None = None

    def merged_config(self, project: Project) -> dict[str, Any]:
        """Project defaults overlaid with this stack's values (as Pulumi does)."""
        return {**project.defaults, **self.config}


def find_project(start: Path | None = None) -> Project:
    """The project containing `start` (or $AFREX_PROJECT, or the working folder)."""
    override = os.environ.get(PROJECT_ENV)
    here = Path(override) if override else (start or Path.cwd())
    for folder in (here, *here.resolve().parents):
        manifest = folder / "Pulumi.yaml"
        if manifest.is_file():
            return _read_project(manifest)
    raise BadInput(
        f"no Pulumi.yaml in {here} or above",
        f"run afrex inside the project or set {PROJECT_ENV} to its folder",
    )


def _read_project(manifest: Path) -> Project:
    data = _load_yaml(manifest)
    name = str(data.get("name", ""))
    defaults: dict[str, Any] = {}
    for key, spec in (data.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(spec, dict) and "default" in spec:
            defaults[full] = spec["default"]
        elif not isinstance(spec, dict):
            defaults[full] = spec
    stack_dir = manifest.parent / str(data.get("stackConfigDir", "."))
    return Project(root=manifest.parent, name=name, stack_dir=stack_dir, defaults=defaults)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(str(path), [f"not valid YAML ({str(error).splitlines()[0]})"]) from None
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror}", "check the path") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["must be a YAML mapping"])
    return data


def read_stack(path: Path) -> StackFile:
    """Parse one stack file."""
    name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    data = _load_yaml(path)
    config: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in (data.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret.add(key)
        config[key] = value
    salt = data.get("encryptionsalt")
    return StackFile(name, path, config, frozenset(secret), salt if isinstance(salt, str) else None)


def list_stacks(project: Project, only: list[str] | None = None) -> list[StackFile]:
    """Every stack file of the project, by name; `only` must all exist."""
    found = {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml"): p
        for p in sorted(project.stack_dir.glob("Pulumi.*.yaml"))
    }
    if only:
        missing = [name for name in only if name not in found]
        if missing:
            raise BadInput(
                f"unknown stack {', '.join(missing)}",
                f"stack files live in {project.stack_dir}; `afrex fleet list` shows them",
            )
        found = {name: found[name] for name in only}
    return [read_stack(path) for path in found.values()]


def stage_text(path: Path, text: str) -> Path:
    """Write `text` to a synced temporary file beside `path` (to be renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def write_atomic(path: Path, text: str) -> None:
    """Write a file so readers see the old or the new content, never half of it."""
    temp = stage_text(path, text)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
