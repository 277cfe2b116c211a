"""The content of a charter version, and the differences between two versions.

A version's content is a plain JSON snapshot of the charter's fields, with related objects as
`{"id", "name"}` pairs sorted by name, so an old version reads the same after its organizations
or agreements are renamed, and two versions can be compared field by field.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal

from charters.choices import DataClassification, IPFramework
from charters.models import Charter

# Scalar fields of a charter that a version records, in the order they are shown.
SCALAR_FIELDS = [
    "title",
    "summary",
    "objectives",
    "national_impact",
    "ip_framework",
    "licence_terms",
    "commercialization_rights",
    "government_royalty_free_use",
    "data_classification",
    "allowed_jurisdictions",
    "requested_credits",
]
# Many-to-many fields a version records.
RELATED_FIELDS = ["participating_organizations", "data_use_agreements", "resources"]
# Long prose: compared word by word.
TEXT_FIELDS = {"summary", "objectives", "national_impact", "licence_terms", "commercialization_rights"}
CHOICE_LABELS = {"ip_framework": dict(IPFramework.choices), "data_classification": dict(DataClassification.choices)}


def _related(objects) -> list[dict]:
    return sorted(({"id": o.pk, "name": str(o)} for o in objects), key=lambda item: (item["name"], item["id"]))


def snapshot(charter: Charter, related: dict | None = None) -> dict:
    """The charter's content as a version records it. `related` may give the many-to-many
    values (lists of objects) that the charter would have, for a proposal not yet applied."""
    content = {name: getattr(charter, name) for name in SCALAR_FIELDS}
    content["requested_credits"] = str(Decimal(charter.requested_credits).quantize(Decimal("0.01")))
    content["allowed_jurisdictions"] = list(charter.allowed_jurisdictions)
    content["lead_organization"] = {"id": charter.lead_organization_id, "name": str(charter.lead_organization)}
    for name in RELATED_FIELDS:
        objects = related[name] if related and name in related else getattr(charter, name).all()
        content[name] = _related(objects)
    return content


def related_ids(content: dict, name: str) -> list[int]:
    return [item["id"] for item in content.get(name, [])]


@dataclass
class FieldChange:
    """One field that differs between two versions, ready to show."""

    name: str
    label: str
    before: str
    after: str
    # For prose: (op, text) pieces with op in "same", "removed", "added".
    pieces: list[tuple[str, str]] = field(default_factory=list)
    # For lists: what one version has and the other has not.
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def _label(name: str) -> str:
    verbose = Charter._meta.get_field(name).verbose_name
    return str(verbose)[:1].upper() + str(verbose)[1:]


def _display(name: str, value) -> str:
    if name in CHOICE_LABELS:
        return CHOICE_LABELS[name].get(value, value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(item["name"] if isinstance(item, dict) else str(item) for item in value) or "—"
    if isinstance(value, dict):
        return value.get("name", "")
    return "" if value is None else str(value)


def _word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Word-level differences, whitespace kept, so prose changes read in place."""
    a, b = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(("removed", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("added", "".join(b[j1:j2])))
    return pieces


def diff(before: dict, after: dict) -> list[FieldChange]:
    """The fields that differ from `before` to `after`, in the order a charter shows them."""
    changes = []
    for name in ["lead_organization", *SCALAR_FIELDS, *RELATED_FIELDS]:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        change = FieldChange(name=name, label=_label(name), before=_display(name, old), after=_display(name, new))
        if name in TEXT_FIELDS:
            change.pieces = _word_diff(old or "", new or "")
        elif isinstance(old, list) or isinstance(new, list):
            old_names = [_display(name, [item]) for item in old or []]
            new_names = [_display(name, [item]) for item in new or []]
            change.removed = [n for n in old_names if n not in new_names]
            change.added = [n for n in new_names if n not in old_names]
        changes.append(change)
    return changes
