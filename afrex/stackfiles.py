"""The fleet as data: `Pulumi.yaml` and the stack files in `stacks/`: the one door
through which stack files come in.

Reads the project (name, config defaults, where stack files live) and each
`stacks/Pulumi.<tenant id>.yaml` through `afrex.yamlsafe` (regular files only,
UTF-8, no aliases, no key written twice). Secure values are kept as ciphertext
and marked secret; nothing here decrypts them. A stack file is one customer: a
copy or a symlink of another stack file under a second name is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from afrex.errors import BadInput, ConfigError
from afrex.yamlsafe import load_yaml_mapping

PROJECT_ENV = "AFREX_PROJECT"
STACK_PREFIX = "Pulumi."
STACK_SUFFIX = ".yaml"
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
TOKEN_CONFIG_KEY = "afrex:gatewayToken"


@dataclass(frozen=True)
class Project:
    """The Pulumi project: its folder, name, stack folder and config defaults."""

    root: Path
    name: str
    stack_dir: Path
    defaults: dict[str, Any]

    def stack_path(self, stack: str) -> Path:
        return self.stack_dir / f"{STACK_PREFIX}{stack}{STACK_SUFFIX}"


@dataclass(frozen=True)
class StackFile:
    """One stack's config file, parsed; secure values stay encrypted."""

    name: str
    path: Path
    config: dict[str, Any]
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    encryption_salt: str | None = None
    identity: tuple[int, int] | None = None  # (device, inode) of the file read

    def merged_config(self, project: Project) -> dict[str, Any]:
        """Project defaults overlaid with this stack's values (as Pulumi does)."""
        return {**project.defaults, **self.config}

    @property
    def token_ciphertext(self) -> str | None:
        """The encrypted gateway token, if the file holds one (never decrypted here)."""
        value = self.config.get(TOKEN_CONFIG_KEY)
        secure = value.get("secure") if isinstance(value, dict) else None
        return secure if isinstance(secure, str) else None


def find_project(start: Path | None = None) -> Project:
    """The project containing `start` (or $AFREX_PROJECT, or the working folder)."""
    override = os.environ.get(PROJECT_ENV)
    if override and not Path(override).is_dir():
        raise BadInput(
            f"{PROJECT_ENV}={override} is not a folder", "point it at the project's folder"
        )
    here = Path(override) if override else (start or Path.cwd())
    for folder in (here, *here.resolve().parents):
        manifest = folder / "Pulumi.yaml"
        if manifest.exists():
            return _read_project(manifest)
    raise BadInput(
        f"no Pulumi.yaml in {here} or above",
        f"run afrex inside the project or set {PROJECT_ENV} to its folder",
    )


def _read_project(manifest: Path) -> Project:
    data = load_yaml_mapping(manifest)
    name = data.get("name")
    if not isinstance(name, str) or not STACK_NAME.fullmatch(name):
        raise ConfigError(str(manifest), ["name: missing or not a project name; e.g. name: afrex"])
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(str(manifest), ["config: must be a mapping of config keys"])
    defaults: dict[str, Any] = {}
    for key, spec in config.items():
        full = str(key) if ":" in str(key) else f"{name}:{key}"
        if isinstance(spec, dict) and "default" in spec:
            defaults[full] = spec["default"]
        elif not isinstance(spec, dict):
            defaults[full] = spec
    folder = data.get("stackConfigDir", ".")
    if not isinstance(folder, str) or not folder.strip():
        raise ConfigError(str(manifest), ["stackConfigDir: must be a folder name, e.g. stacks"])
    stack_dir = manifest.parent / folder
    if not stack_dir.is_dir():
        raise ConfigError(
            str(manifest),
            [
                f"stackConfigDir: {stack_dir} is not a folder; create it or fix stackConfigDir "
                "(no folder would mean no tenants)"
            ],
        )
    return Project(root=manifest.parent, name=name, stack_dir=stack_dir, defaults=defaults)


def read_stack(path: Path) -> StackFile:
    """Parse one stack file."""
    name = path.name.removeprefix(STACK_PREFIX).removesuffix(STACK_SUFFIX)
    data = load_yaml_mapping(path)
    raw = data.get("config") or {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["config: must be a mapping of config keys"])
    config: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in raw.items():
        if not isinstance(key, str):
            raise ConfigError(str(path), [f"config: key {key!r} must be a string"])
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret.add(key)
        config[key] = value
    salt = data.get("encryptionsalt")
    try:
        info = path.stat()
        identity: tuple[int, int] | None = (info.st_dev, info.st_ino)
    except OSError:
        identity = None
    return StackFile(
        name,
        path,
        config,
        frozenset(secret),
        salt if isinstance(salt, str) else None,
        identity,
    )


def stack_paths(project: Project) -> dict[str, Path]:
    """Every stack file of the project by stack name; a `.yml` stack file is refused."""
    found: dict[str, Path] = {}
    for entry in sorted(os.scandir(project.stack_dir), key=lambda e: e.name):
        if not entry.name.startswith(STACK_PREFIX):
            continue
        if entry.name.endswith(".yml"):
            fixed = entry.name.removesuffix(".yml") + STACK_SUFFIX
            raise BadInput(
                f"{entry.path}: stack files end in .yaml here, and Pulumi might read this one",
                f"rename it to {fixed}",
            )
        if entry.name.endswith(STACK_SUFFIX):
            found[entry.name.removeprefix(STACK_PREFIX).removesuffix(STACK_SUFFIX)] = Path(
                entry.path
            )
    return found


def list_stacks(project: Project, only: list[str] | None = None) -> list[StackFile]:
    """Every stack file of the project, by name (`only`: these, which must all exist).

    Each is checked against all the others: one customer, one stack file.
    """
    found = stack_paths(project)
    if only:
        missing = [name for name in only if name not in found]
        if missing:
            raise BadInput(
                f"unknown stack {', '.join(missing)}",
                f"stack files live in {project.stack_dir}; `afrex fleet list` shows them",
            )
    wanted = list(dict.fromkeys(only)) if only else list(found)
    stacks = {name: read_stack(found[name]) for name in wanted}
    others = [read_other(path) for name, path in found.items() if name not in stacks]
    check_one_file_per_tenant(list(stacks.values()), [s for s in others if s is not None])
    return list(stacks.values())


def read_other(path: Path) -> StackFile | None:
    """A stack file read only to compare with others (unreadable ones are skipped here:
    commands that need them report them)."""
    try:
        return read_stack(path)
    except BadInput:
        return None


def _fingerprints(stack: StackFile) -> list[tuple[str, object]]:
    marks: list[tuple[str, object]] = []
    if stack.identity is not None:
        marks.append(("it is the same file (a link)", stack.identity))
    if stack.encryption_salt:
        marks.append(("same encryptionsalt", stack.encryption_salt))
    if stack.token_ciphertext:
        marks.append(("same encrypted gateway token", stack.token_ciphertext))
    return marks


def check_one_file_per_tenant(
    stacks: Sequence[StackFile], others: Sequence[StackFile] = ()
) -> None:
    """Refuse a stack file that is a copy or a link of another (same salt, same encrypted
    token or same file): the same customer would be deployed and billed twice."""
    seen: dict[tuple[str, object], StackFile] = {}
    for stack in sorted([*others, *stacks], key=lambda s: s.name):
        for reason, mark in _fingerprints(stack):
            first = seen.setdefault((reason, mark), stack)
            if first is not stack:
                raise BadInput(
                    f"{stack.path} and {first.path} are the same customer ({reason}): "
                    "one stack file per tenant",
                    "remove the copy; a new tenant gets its own file from `afrex tenant new`",
                )
