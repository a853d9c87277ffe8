"""The one YAML reader: stack files, the project file, the catalog, state metadata.

Safe and quick by construction:
- libyaml's C parser where it is installed (about 7x faster than pure Python);
- only the safe constructor (plain data, no Python objects);
- no anchors or aliases: a kilobyte of aliases cannot expand into gigabytes
  anywhere downstream (JSON, the offline plan's config, the policy pack);
- a key written twice in one mapping is an error naming the key and its line,
  never a silent "last one wins" (a second `tier` or `afrex:gatewayToken`);
- bytes must be UTF-8 (a BOM is allowed): Latin-1 or UTF-16 is one line naming
  the file, not a guess;
- files are opened without blocking and must be regular files under a size cap,
  so a FIFO or a device is refused instead of waited on.

Every problem is a `ConfigError` naming the file and, where there is one, the line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from afrex.errors import BadInput, ConfigError

try:  # libyaml's parser; the pure-Python one only where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - libyaml ships with PyYAML's wheels
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_FILE_BYTES = 1024 * 1024  # a stack file is a few KB; a catalog tens of KB
MAX_NODES = 200_000


class _Loader(_BaseLoader):
    """The safe loader, used only through `parse_yaml`; refuses a key written twice."""

    source = "<yaml>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _check_keys(node, self.source)
        return super().construct_mapping(node, deep=deep)


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            source,
            [
                f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
                "save the file as UTF-8"
            ],
        ) from None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _check_keys(node: yaml.MappingNode, source: str) -> None:
    """Refuse a mapping that writes a key twice, naming the key and both lines."""
    keys: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode):
            ident = (key.tag, key.value)
            if ident in keys:
                raise ConfigError(
                    source,
                    [
                        f"line {_line(key)}: key '{key.value}' is written twice "
                        f"(first on line {keys[ident]}); keep one"
                    ],
                )
            keys[ident] = _line(key)


def _check_aliases(root: yaml.Node, source: str) -> None:
    """Refuse aliases (a node reached twice), without recursion."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            raise ConfigError(
                source,
                [
                    f"line {_line(node)}: YAML anchors and aliases (&name, *name) are not "
                    "allowed; write the value out in full"
                ],
            )
        seen.add(id(node))
        if len(seen) > MAX_NODES:
            raise ConfigError(source, [f"more than {MAX_NODES:,} YAML nodes; is this the file?"])
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                todo.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)


def parse_yaml(data: bytes | str, source: str) -> Any:
    """The document in `data` as plain data (dict, list, str, int, ...), or None if empty."""
    text = _decode(data, source) if isinstance(data, bytes) else data
    loader = _Loader(text)
    loader.source = source
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text or "*" in text:  # anchors and aliases need these characters
            _check_aliases(node, source)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = error.problem or error.context or "not valid YAML"
        raise ConfigError(source, [f"{where}{problem}; fix the YAML there"]) from None
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0] if str(error) else "not valid YAML"
        raise ConfigError(source, [f"not valid YAML ({first})"]) from None
    except (RecursionError, ValueError, OverflowError) as error:
        raise ConfigError(source, [f"a value cannot be read ({type(error).__name__})"]) from None
    finally:
        loader.dispose()


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes.

    Opened without blocking, so a FIFO (or a device) is refused rather than waited on.
    """
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist", "check the path") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder, not a file", "point at the file itself") from None
    except OSError as error:
        raise BadInput(f"cannot open {path}: {error.strerror}", "check its permissions") from None
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise BadInput(f"{path} is a folder, not a file", "point at the file itself")
        if not stat.S_ISREG(info.st_mode):
            raise BadInput(
                f"{path} is not a regular file (a pipe, socket or device)",
                "replace it with a regular file",
            )
        if info.st_size > limit:
            raise BadInput(
                f"{path} is {info.st_size:,} bytes, over the {limit:,}-byte limit",
                "is this the right file?",
            )
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(handle, min(remaining, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror}", "check the file") from None
    finally:
        os.close(handle)
    if len(data) > limit:
        raise BadInput(f"{path} grew past the {limit:,}-byte limit while read", "retry")
    return data


def load_yaml_file(path: Path, limit: int = MAX_FILE_BYTES) -> Any:
    """Read and parse one YAML file (regular, bounded, UTF-8, no aliases, no twin keys)."""
    return parse_yaml(read_regular_file(path, limit), str(path))


def load_yaml_mapping(path: Path, limit: int = MAX_FILE_BYTES) -> dict[str, Any]:
    """`load_yaml_file`, which must hold a mapping (an empty file is an empty mapping)."""
    data = load_yaml_file(path, limit)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), [f"must be a YAML mapping, not a {type(data).__name__}"])
    return data
