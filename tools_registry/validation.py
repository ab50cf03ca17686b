"""JSON-schema checks of tool arguments (from the LLM) and tool settings (from an admin).

Beyond the schema, a value may hold no NUL character anywhere: PostgreSQL stores neither a
text nor a JSON string with one, so it would fail at the database instead of here.
"""

from typing import Any

import jsonschema


def schema_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Every way `value` breaks `schema`, as `path: message` lines (empty when valid)."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        f"{_path(error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(value), key=str)
    ]
    return errors + [f"{_path(path)}: contains a NUL character" for path in _nul_paths(value, ())]


def without_nul(value: Any) -> Any:
    """`value` with every NUL character taken out of its strings (keys included): storable."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(str(key)): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def _path(parts: Any) -> str:
    return ".".join(str(part) for part in parts) or "(top level)"


def _nul_paths(value: Any, path: tuple) -> list[tuple]:
    """Where in `value` (keys included) a string holds a NUL character."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in ([path] if "\x00" in str(key) else []) + _nul_paths(item, (*path, key))
        ]
    if isinstance(value, list):
        return [
            found for index, item in enumerate(value) for found in _nul_paths(item, (*path, index))
        ]
    return []
