"""What the roadmap services do with a person's input: keep the fields a service accepts, and
write a relation as sorted ids for the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def pick(fields: Mapping[str, Any], allowed: list[str]) -> dict[str, Any]:
    """The input fields that the service accepts, the rest dropped."""
    return {name: value for name, value in fields.items() if name in allowed}


def ids(objects: Iterable) -> list[int]:
    """Objects (or ids) as sorted ids."""
    return sorted(getattr(obj, "pk", obj) for obj in objects)
