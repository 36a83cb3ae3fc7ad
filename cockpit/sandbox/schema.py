"""A small JSON Schema (draft-04) checker for the drill range's bodies: the keywords the
ADF schema (`schemas/adf.json`) uses — `$ref` (local), `type`, `enum`, `properties`,
`required`, `additionalProperties` (true/false), `items` (one schema or a tuple),
`minItems`, `maxItems`, `minLength`, `pattern`, `minimum`, `maximum`, `anyOf`, `allOf`.
A keyword it does not know fails loudly (a schema it cannot read is never passed).

    problem = adf_problem(doc)     # None, or where and why the document is not ADF

No dependency: the drill range ships with cockpit, jsonschema is a test tool.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

JSON = dict[str, Any]

_KNOWN = frozenset(
    {
        "$ref",
        "$schema",
        "type",
        "enum",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "pattern",
        "minimum",
        "maximum",
        "anyOf",
        "allOf",
        "description",
        "definitions",
    }
)
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "null": lambda v: v is None,
}
MAX_DEPTH = 200


class SchemaError(Exception):
    """The schema itself uses something this checker does not know."""


class Checker:
    def __init__(self, root: JSON) -> None:
        self.root = root

    def _resolve(self, ref: str) -> JSON:
        if not ref.startswith("#/"):
            raise SchemaError(f"only local $refs are supported: {ref}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        assert isinstance(node, dict)
        return node

    def problem(self, value: Any) -> str | None:
        return self._check(value, self.root, "", 0)

    def _check(self, value: Any, schema: JSON, path: str, depth: int) -> str | None:
        if depth > MAX_DEPTH:
            return f"{path or '/'}: nested too deeply"
        unknown = set(schema) - _KNOWN
        if unknown:
            raise SchemaError(f"unsupported keyword(s) {sorted(unknown)}")
        where = path or "/"
        if "$ref" in schema:
            return self._check(value, self._resolve(schema["$ref"]), path, depth + 1)
        kind = schema.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(_TYPES[k](value) for k in kinds):
                return f"{where}: expected {' or '.join(kinds)}"
        if "enum" in schema and value not in schema["enum"]:
            return f"{where}: {json.dumps(value)[:40]} is not one of {schema['enum']}"
        if isinstance(value, str):
            if len(value) < schema.get("minLength", 0):
                return f"{where}: shorter than {schema['minLength']}"
            if "pattern" in schema and not re.search(schema["pattern"], value):
                return f"{where}: does not match {schema['pattern']}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                return f"{where}: less than {schema['minimum']}"
            if "maximum" in schema and value > schema["maximum"]:
                return f"{where}: more than {schema['maximum']}"
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    return f"{where}: '{name}' is required"
            props = schema.get("properties", {})
            if schema.get("additionalProperties", True) is False:
                extra = sorted(set(value) - set(props))
                if extra:
                    return f"{where}: unexpected '{extra[0]}'"
            for name, sub in props.items():
                if name in value:
                    found = self._check(value[name], sub, f"{path}/{name}", depth + 1)
                    if found:
                        return found
        if isinstance(value, list):
            if len(value) < schema.get("minItems", 0):
                return f"{where}: fewer than {schema['minItems']} items"
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                return f"{where}: more than {schema['maxItems']} items"
            items = schema.get("items")
            if isinstance(items, dict):
                for i, item in enumerate(value):
                    found = self._check(item, items, f"{path}/{i}", depth + 1)
                    if found:
                        return found
            elif isinstance(items, list):
                for i, (item, sub) in enumerate(zip(value, items, strict=False)):
                    found = self._check(item, sub, f"{path}/{i}", depth + 1)
                    if found:
                        return found
        for sub in schema.get("allOf", []):
            found = self._check(value, sub, path, depth + 1)
            if found:
                return found
        if "anyOf" in schema:
            problems = [self._check(value, sub, path, depth + 1) for sub in schema["anyOf"]]
            if all(problems):
                # the closest miss: the alternative that got deepest into the value
                return max((p for p in problems if p), key=lambda p: p.count("/"))
        return None


@functools.cache
def adf_checker() -> Checker:
    raw = resources.files("cockpit.sandbox").joinpath("schemas", "adf.json").read_text("utf-8")
    return Checker(json.loads(raw))


def adf_problem(doc: Any) -> str | None:
    """Why `doc` is not a valid ADF document (None when it is one)."""
    return adf_checker().problem(doc)
