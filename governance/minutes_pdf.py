"""The PDF of approved minutes, made on the server with WeasyPrint.

The PDF is a public document (approved minutes are public, DESIGN.md 2.8), so it shows what
the public view shows: attendance counted per sector, each decision's public row (a decision
on a restricted charter under its neutral title; recusal names and named votes only where the
committee publishes its roll calls), and for each decision its place in the record: the log
index of its closing event, the smallest checkpoint both sectors' witnesses cosigned that
covers it, and a QR code opening its public page, where anyone checks the receipt.

Rendering is deterministic: the document's dates come from the approval time, its PDF
identifier from the minutes' digest, and nothing in it reads the clock, so the same record
renders to the same bytes (and the same SHA-256) every time on the same fonts.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import segno
import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from governance.choices import Sector
from governance.models import LogCheckpoint, Meeting, Minutes
from governance.public import selectors
from governance.transparency.keys import SECTORS as WITNESS_SECTORS

TALLY_KEYS = ("eligible", "recused", "yes", "no", "abstain")


@dataclass(frozen=True)
class CheckpointRef:
    size: int
    root: str  # base64, as the checkpoint's note writes it
    created_at: object


def covering_checkpoint(log_index: int | None) -> CheckpointRef | None:
    """The first checkpoint every sector's witness cosigned whose tree holds leaf `log_index`
    (the smallest such: it never changes once it exists, so the PDF stays reproducible)."""
    if log_index is None:
        return None
    found = (
        LogCheckpoint.objects.cosigned_by_every_sector(WITNESS_SECTORS)
        .filter(size__gt=log_index)
        .order_by("size")
        .values_list("size", "root", "created_at")
        .first()
    )
    if found is None:
        return None
    size, root, created_at = found
    return CheckpointRef(size, base64.b64encode(bytes(root)).decode(), created_at)


def qr_data_uri(url: str) -> str:
    """A QR code of `url` as an SVG data URI (vector, so it prints sharp at any size)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def _sectors(counts: dict) -> list[dict]:
    labels = dict(Sector.choices)
    rows = []
    for sector in [*Sector.values, *sorted(set(counts) - set(Sector.values))]:
        if sector in counts:
            c = counts[sector]
            rows.append({"sector": sector, "label": labels.get(sector, sector), **c})
    return rows


def pdf_context(minutes: Minutes) -> dict:
    """Everything the PDF shows, read from the record (nothing from the clock)."""
    meeting = Meeting.objects.select_related("committee").get(pk=minutes.meeting_id)
    site = settings.SITE_URL.rstrip("/")
    decided = {
        row["id"]: row for row in selectors.decision_rows(selectors.decisions().filter(agenda_item__meeting=meeting))
    }
    agenda = []
    for item in meeting.agenda_items.select_related("ballot", "ballot__committee").order_by("position"):
        row = decided.get(item.ballot_id) if item.ballot_id else None
        entry = {"item": item, "title": item.title, "description": item.description, "decision": None}
        if row is not None:
            if row["restricted"]:
                # The item's own words may speak of a restricted charter: its public title instead.
                entry.update(title=row["title"], description="")
            url = site + row["url"]
            checkpoint = covering_checkpoint(row["log_index"])
            entry["decision"] = {
                **row,
                "sector_rows": _sectors(row["sectors"]),
                "public_url": url,
                "qr": qr_data_uri(url),
                "checkpoint": checkpoint,
                "roll_call": selectors.roll_call(item.ballot),
            }
        agenda.append(entry)
    return {
        "meeting": meeting,
        "minutes": minutes,
        "by_sector": meeting.attendance_by_sector(),
        "agenda": agenda,
        "public_minutes_url": site + reverse("public:minutes", args=[meeting.pk]),
        "record_url": site + reverse("public:record"),
    }


def render_minutes_pdf(minutes: Minutes) -> bytes:
    """The PDF of approved minutes, byte for byte the same for the same record."""
    html = render_to_string("governance/minutes_pdf.html", pdf_context(minutes))
    document = weasyprint.HTML(string=html, base_url=settings.SITE_URL)
    return document.write_pdf(
        # A fixed identifier (the trailer's /ID) instead of one made from the clock.
        pdf_identifier=hashlib.sha256(minutes.digest.encode()).hexdigest()[:32].encode(),
        pdf_tags=True,
    )
