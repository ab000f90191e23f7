"""Turning pydantic's errors into the one-line messages every config problem is reported as."""

from __future__ import annotations

from pydantic import ValidationError


def format_validation_error(error: ValidationError) -> list[str]:
    """One 'yaml.path: message, got value' line per pydantic error."""
    lines = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        got = f", got {err['input']!r}" if err["type"] not in ("missing", "extra_forbidden") else ""
        lines.append(f"{loc}: {message}{got}")
    return lines
