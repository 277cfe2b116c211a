"""Technical reviews of the version before the committee (DESIGN.md 2.2)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from charters import permissions
from charters.choices import AMENDABLE_STATUSES, REVIEW_CHECKLISTS, CharterStatus, ReviewKind, ReviewVerdict
from charters.models import Charter, CharterVersion, TechnicalReview
from charters.selectors import pending_version, sovereignty_findings
from charters.services.charters import lock_charter
from governance.audit import record_event
from governance.exceptions import DomainError
from governance.models import User
from governance.permissions import require
from governance.subjects import refuse_if_recused


def review_version(charter: Charter) -> CharterVersion:
    """The version a review is recorded on: the one under technical review now."""
    version = pending_version(charter)
    in_review = charter.status == CharterStatus.UNDER_REVIEW or (
        version is not None and version.is_amendment and charter.status in AMENDABLE_STATUSES
    )
    if version is None or not in_review:
        raise DomainError(
            f"Reviews are recorded while the charter is under review or an amendment is proposed; "
            f"this charter is '{charter.status}'."
        )
    return version


@transaction.atomic
def record_review(
    actor: User,
    charter: Charter,
    *,
    kind: str,
    verdict: str,
    notes: str = "",
    checklist: dict[str, bool] | None = None,
) -> TechnicalReview:
    """Record (or re-record) a technical review of the version under review. A review passes
    only with every checklist item met; the automatic items are the portal's own findings."""
    refuse_if_recused(actor, charter)
    require(
        permissions.may_review(actor, charter),
        "Reviewers are members of the charter's committee from organizations not party to it.",
    )
    if kind not in ReviewKind.values:
        raise ValidationError({"kind": f"Unknown review: choose one of {', '.join(ReviewKind.values)}."})
    if verdict not in ReviewVerdict.values:
        raise ValidationError({"verdict": f"Unknown verdict: choose one of {', '.join(ReviewVerdict.values)}."})
    charter = lock_charter(charter)
    version = review_version(charter)
    answers = checklist or {}
    findings = sovereignty_findings(version.content) if kind == ReviewKind.DATA_SOVEREIGNTY else {}
    items: list[dict[str, Any]] = []
    for key, label, automatic in REVIEW_CHECKLISTS[kind]:
        found = findings.get(key, [])
        met = not found if automatic else bool(answers.get(key, False))
        items.append({"key": key, "label": label, "met": met, "automatic": automatic, "findings": found})
    notes = (notes or "").strip()
    if verdict == ReviewVerdict.PASSED:
        unmet = [item for item in items if not item["met"]]
        if unmet:
            reasons = " ".join(f for item in unmet for f in item["findings"])
            raise ValidationError(
                {
                    "verdict": "A review passes only when every checklist item is met. Not met: "
                    + "; ".join(item["label"] for item in unmet)
                    + "."
                    + (f" {reasons}" if reasons else "")
                }
            )
    elif not notes:
        raise ValidationError({"notes": "Say why the review failed, so the authors can revise."})
    review = TechnicalReview.objects.filter(version=version, kind=kind).first()
    before = {"verdict": review.verdict, "reviewer": review.reviewer_id} if review else {}
    review = review or TechnicalReview(version=version, kind=kind)
    review.reviewer, review.verdict, review.notes, review.checklist = actor, verdict, notes, items
    review.full_clean()
    review.save()
    record_event(
        actor,
        "charter.reviewed",
        charter,
        before=before,
        after={"version": version.number, "kind": kind, "verdict": verdict, "reviewer": actor.pk},
    )
    return review
