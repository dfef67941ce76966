"""Tool-argument errors an agent can act on: one clause per problem, naming the allowed keys and ranges.

The rejected input is never echoed in full (a 1 MB id comes back as its first characters).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

ECHO_CHARS = 80


def echo(value: str) -> str:
    """`value` quoted for an error message, cut at `ECHO_CHARS` characters."""
    if len(value) <= ECHO_CHARS:
        return repr(value)
    return f"{value[:ECHO_CHARS]!r}… ({len(value)} characters)"


def argument_errors(tool: str, exc: ValidationError, schema: dict[str, Any]) -> str:
    """One line for the validation errors of a call, using the tool's JSON input schema for the limits."""
    problems: list[str] = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = list(error["loc"])
        where = ".".join(str(part) for part in loc) or "arguments"
        if error["type"] == "extra_forbidden":
            keys = ", ".join(_node(schema, loc[:-1]).get("properties", {}))
            problems.append(f"{where}: unknown key (allowed keys: {keys})")
            continue
        allowed = _allowed(_node(schema, loc))
        problems.append(f"{where}: {error['msg']}" + (f" (allowed: {allowed})" if allowed else ""))
    return f"invalid arguments for {tool}: " + "; ".join(problems)


def _deref(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return dict(schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}))
    return node


def _options(node: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The node and, for `X | None`, its alternatives, dereferenced."""
    node = _deref(node, schema)
    return [node, *(_deref(alt, schema) for alt in node.get("anyOf", []))]


def _node(schema: dict[str, Any], loc: list[Any]) -> dict[str, Any]:
    """The schema of the value at `loc` ({} when the path leaves the schema)."""
    node = schema
    for part in loc:
        options = _options(node, schema)
        key = "items" if isinstance(part, int) else "properties"
        found = next((o for o in options if key in o), {})
        node = found.get("items", {}) if isinstance(part, int) else found.get("properties", {}).get(part, {})
    return {k: v for o in reversed(_options(node, schema)) for k, v in o.items()}


def _allowed(node: dict[str, Any]) -> str:
    if "minimum" in node or "maximum" in node:
        low, high = node.get("minimum", "-∞"), node.get("maximum", "∞")
        return f"{low} to {high}"
    if "minLength" in node or "maxLength" in node:
        return f"{node.get('minLength', 0)} to {node.get('maxLength', '∞')} characters"
    if "enum" in node:
        return ", ".join(map(str, node["enum"]))
    return ""
