"""Rewrite a stack file's `afrex:tenant` block and keep every other byte.

A stack file is reviewed in git and holds more than the contract: comments,
encrypted secrets, provider settings. Scaling changes only the contract, so
only the text of the `afrex:tenant` value is replaced: the parser's marks give
where that value starts and where its last line of content ends, and the new
value is written there as block YAML at the same indentation. Everything
before and after (the key line itself, comments after the block, the other
keys, the line endings) is kept byte for byte. Comments inside the old block
go with it.

The edit is checked before it is returned: the new text must parse through the
one YAML reader, hold exactly the new contract, and leave every other config
key equal to what it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from afrex.errors import ConfigError
from afrex.spec import TENANT_KEY
from afrex.stackfiles import STACK_PREFIX, STACK_SUFFIX, StackFile, read_stack
from afrex.yamlsafe import parse_yaml

try:  # positions only: `compose` builds nodes, never Python objects
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml ships with PyYAML's wheels
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

NO_WRAP = 1 << 16


@dataclass(frozen=True)
class BlockSpan:
    """Where the tenant value sits in the text and how the new one is written there.

    A block value's lines `[start, end)` are replaced by the new block, indented
    like the old one. A value on the key's own line (flow style, `{...}`) is cut
    out (`[start, end)`, from just after the key's colon), and the new block goes
    on the lines after that one (`insert_at`, the end of the key's line), so a
    comment on the key's line stays there."""

    start: int
    end: int
    indent: int
    insert_at: int | None = None


def _config_node(root: yaml.Node, source: str) -> yaml.MappingNode:
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "config":
                if isinstance(value, yaml.MappingNode):
                    return value
    raise ConfigError(source, ["config: missing or not a mapping of config keys"])


def _last_content_end(node: yaml.Node) -> int:
    """The index just past the last character of a block node's own content (a block
    mapping's end mark runs on over the blank lines and comments that follow it)."""
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style:
        if not node.value:
            break
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return int(node.end_mark.index)


def tenant_span(text: str, source: str = "stack file") -> BlockSpan:
    """Find the `afrex:tenant` value in a stack file's text."""
    parse_yaml(text, source)  # the one reader's checks first: no aliases, no twin keys
    root = yaml.compose(text, Loader=_Loader)
    if root is None:
        raise ConfigError(source, ["the file is empty; it needs a config mapping"])
    for key, value in _config_node(root, source).value:
        if isinstance(key, yaml.ScalarNode) and key.value == TENANT_KEY:
            return _span(text, key, value)
    raise ConfigError(source, [f"{TENANT_KEY}: missing; it holds the customer contract"])


def _line_end(text: str, index: int) -> int:
    """The index of the line break ending the line that holds `index` (CR LF: of its CR)."""
    end = text.find("\n", index)
    end = len(text) if end < 0 else end
    return end - 1 if end > index and text[end - 1] == "\r" else end


def _span(text: str, key: yaml.Node, value: yaml.Node) -> BlockSpan:
    start = int(value.start_mark.index)
    block = isinstance(value, yaml.MappingNode) and not value.flow_style and value.value
    if block and value.start_mark.line > key.start_mark.line:
        line_start = text.rfind("\n", 0, start) + 1
        end = _line_end(text, _last_content_end(value))
        return BlockSpan(line_start, end, int(value.start_mark.column))
    colon = text.index(":", int(key.end_mark.index)) + 1
    end = int(value.end_mark.index)
    return BlockSpan(colon, end, int(key.start_mark.column) + 2, _line_end(text, end))


def render_block(tenant: Mapping[str, Any], indent: int, newline: str = "\n") -> str:
    """`tenant` as block YAML, every line indented by `indent` spaces, no final newline."""
    dumped = yaml.safe_dump(
        dict(tenant), sort_keys=False, default_flow_style=False, width=NO_WRAP, indent=2
    )
    pad = " " * indent
    return newline.join(pad + row for row in dumped.rstrip("\n").split("\n"))


def replace_tenant(text: str, tenant: Mapping[str, Any], source: str = "stack file") -> str:
    """`text` with its `afrex:tenant` value replaced by `tenant`, every other byte kept."""
    span = tenant_span(text, source)
    newline = "\r\n" if "\r\n" in text else "\n"
    block = render_block(tenant, span.indent, newline)
    if span.insert_at is None:
        edited = text[: span.start] + block + text[span.end :]
    else:
        rest_of_line = text[span.end : span.insert_at].rstrip(" \t")
        edited = text[: span.start] + rest_of_line + newline + block + text[span.insert_at :]
    check_edit(text, edited, tenant, source)
    return edited


def _config(text: str, source: str) -> dict[str, Any]:
    data = parse_yaml(text, source)
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise ConfigError(source, ["config: missing or not a mapping of config keys"])
    return config


def check_edit(before: str, after: str, tenant: Mapping[str, Any], source: str) -> None:
    """The edited text must hold `tenant` and leave every other key as it was."""
    old = _config(before, source)
    expected = parse_yaml(yaml.safe_dump(dict(tenant), sort_keys=False), source)
    try:
        new = _config(after, source)
    except ConfigError:
        new = {}
    others_kept = {k: v for k, v in old.items() if k != TENANT_KEY} == {
        k: v for k, v in new.items() if k != TENANT_KEY
    }
    if new.get(TENANT_KEY) != expected or not others_kept or list(old) != list(new):
        raise ConfigError(
            source,
            [
                f"{TENANT_KEY}: the block could not be rewritten in place; edit the file "
                "by hand or report the layout that stopped it"
            ],
        )


def stack_from_text(path: Path, text: str) -> StackFile:
    """`text`, meant for the stack file at `path`, read exactly as the one door reads
    files (to check an edit, or plan it, before anything is written)."""
    name = path.name.removeprefix(STACK_PREFIX).removesuffix(STACK_SUFFIX)
    with tempfile.TemporaryDirectory(prefix="afrex-stack-") as folder:
        staged = Path(folder) / f"{STACK_PREFIX}{name}{STACK_SUFFIX}"
        staged.write_text(text, encoding="utf-8")
        stack = read_stack(staged)
    return replace(stack, path=path, identity=None)
