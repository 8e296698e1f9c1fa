"""``/docs``: the OpenAPI document as a page a person can read, rendered here, with no script.

The machine the platform runs on may have no internet, so nothing is loaded
from a CDN: the page is plain HTML and a little CSS, made once from the same
document ``/openapi.json`` serves. Each operation shows who may call it, its
arguments (fields, types, limits) and its reply; the problem types that
``type`` URIs point at are anchors on this page.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from services.gateway import problems

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
.verb{display:inline-block;min-width:3.5rem;font-weight:700;font-family:monospace}
.GET{color:#0a6}.POST{color:#06c}code,.path{font-family:monospace}.path{font-weight:600}
.lock{font-size:.8rem;padding:.05rem .4rem;border-radius:4px;background:#fde8c8}
.open{background:#d7f5dd}table{border-collapse:collapse;margin:.4rem 0;font-size:.9rem}
td,th{border:1px solid #e3e3e3;padding:.2rem .5rem;text-align:left;vertical-align:top}
details summary{cursor:pointer;color:#555}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:.8rem}
"""


def render(document: dict[str, Any]) -> str:
    """The whole page."""
    info = document.get("info", {})
    components = document.get("components", {})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(info.get('title', 'API'))}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(info.get('title', ''))} <small>{escape(info.get('version', ''))}</small></h1>",
        *(f"<p>{_inline(p)}</p>" for p in info.get("description", "").split("\n\n") if p.strip()),
        "<p>The machine-readable document: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1).</p>",
    ]
    for tag in document.get("tags", []):
        parts.append(f"<h2 id='tag-{escape(tag['name'])}'>{escape(tag['name'])}</h2>")
        for path, operations in document.get("paths", {}).items():
            for verb, operation in operations.items():
                if tag["name"] in operation.get("tags", []):
                    parts.append(_operation(path, verb.upper(), operation, components))
    parts.append(_problem_types())
    parts.append("</body></html>")
    return "\n".join(parts)


def _operation(path: str, verb: str, operation: dict[str, Any], components: dict[str, Any]) -> str:
    secured = bool(operation.get("security"))
    badge = "<span class='lock'>bearer token</span>" if secured else "<span class='lock open'>public</span>"
    html = [
        f"<div class='op' id='{escape(operation.get('operationId', ''))}'>",
        f"<div><span class='verb {verb}'>{verb}</span> <span class='path'>{escape(path)}</span> {badge}</div>",
        f"<div>{escape(operation.get('summary', ''))}</div>",
    ]
    if operation.get("description"):
        html.append(f"<div><small>{_inline(operation['description'])}</small></div>")
    for place in ("path", "query"):
        rows = [
            (p["name"], p.get("schema", {}), p.get("required", False), p.get("description", ""))
            for p in operation.get("parameters", [])
            if p.get("in") == place
        ]
        if rows:
            html.append(f"<div>{place.capitalize()} parameters:</div>" + _table(rows, components))
    body = operation.get("requestBody")
    if body:
        schema = _resolve(body["content"]["application/json"]["schema"], components)
        html.append(f"<div>Body (JSON{', required' if body.get('required') else ''}):</div>")
        html.append(_table(_properties(schema), components))
    reply = operation.get("responses", {}).get("200", {})
    for media_type, content in reply.get("content", {}).items():
        reply_schema = content.get("schema")
        if media_type != "application/json":
            html.append(f"<div><small>Reply (200): <code>{escape(media_type)}</code></small></div>")
        elif reply_schema is not None:
            html.append("<details><summary>Reply (200)</summary>")
            html.append(f"<pre>{escape(json.dumps(_expand(reply_schema, components), indent=2))}</pre></details>")
    errors = [status for status in operation.get("responses", {}) if status != "200"]
    html.append(f"<div><small>Problems: {', '.join(errors)}</small></div></div>")
    return "\n".join(html)


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool, str]]:
    required = set(schema.get("required", []))
    return [
        (name, prop, name in required, prop.get("description", ""))
        for name, prop in schema.get("properties", {}).items()
    ]


def _table(rows: list[tuple[str, dict[str, Any], bool, str]], components: dict[str, Any]) -> str:
    if not rows:
        return "<div><small>(no arguments)</small></div>"
    lines = ["<table><tr><th>field</th><th>type</th><th>required</th><th>limits</th><th>default</th></tr>"]
    for name, schema, required, _ in rows:
        schema = _resolve(schema, components)
        default = json.dumps(schema["default"]) if "default" in schema else ""
        lines.append(
            f"<tr><td><code>{escape(name)}</code></td><td>{escape(_type(schema, components))}</td>"
            f"<td>{'yes' if required else ''}</td><td>{escape(_limits(schema))}</td><td>{escape(default)}</td></tr>"
        )
    lines.append("</table>")
    return "".join(lines)


def _type(schema: dict[str, Any], components: dict[str, Any]) -> str:
    schema = _resolve(schema, components)
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_type(s, components) for s in schema["anyOf"])
    kinds = schema.get("type", "any")
    names = kinds if isinstance(kinds, list) else [kinds]
    shown = []
    for kind in names:
        if kind == "array":
            shown.append(f"array of {_type(schema.get('items', {}), components)}")
        elif kind == "object" and "properties" in schema:
            shown.append("object {" + ", ".join(schema["properties"]) + "}")
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            shown.append(f"map of {_type(schema['additionalProperties'], components)}")
        else:
            shown.append(str(kind) + (f" ({schema['format']})" if "format" in schema else ""))
    return " or ".join(shown)


def _limits(schema: dict[str, Any]) -> str:
    keys = ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "minProperties", "maxProperties")
    limits = [f"{key} {schema[key]}" for key in keys if key in schema]
    if "pattern" in schema:
        limits.append(f"pattern {schema['pattern']}")
    return "; ".join(limits)


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        resolved: dict[str, Any] = components.get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
        return resolved
    return schema


def _expand(schema: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """The schema with its references replaced by what they name (for reading, not for machines)."""
    if depth > 8:
        return schema
    if isinstance(schema, dict):
        resolved = _resolve(schema, components)
        return {key: _expand(value, components, depth + 1) for key, value in resolved.items()}
    if isinstance(schema, list):
        return [_expand(item, components, depth + 1) for item in schema]
    return schema


def _problem_types() -> str:
    rows = "".join(
        f"<tr id='problem-{kind.slug}'><td>{kind.status}</td><td><code>{escape(kind.type_uri)}</code></td>"
        f"<td>{escape(kind.title)}</td></tr>"
        for kind in problems.KINDS
    )
    return (
        "<h2 id='problems'>Problem types</h2><p>Every failure is <code>application/problem+json</code> "
        f"(RFC 9457).</p><table><tr><th>status</th><th>type</th><th>title</th></tr>{rows}</table>"
    )


def _inline(text: str) -> str:
    """Escaped text with `code` spans."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))
