"""Parsers of security reports: OpenSCAP XCCDF results, Lynis, Trivy, Grype, TEE attestations.

Each turns a file's bytes into a `ParsedReport` (score, findings by severity, a capped list of
the findings) or raises ValidationError saying what is wrong. Parsers never write; the
service stores a parsed report in one transaction, so a malformed file leaves nothing behind.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from compute.choices import AttestationStatus, ScanKind

MAX_FINDINGS = 200
SEVERITIES = ("critical", "high", "medium", "low", "unknown")
XCCDF_NAMESPACES = ("http://checklists.nist.gov/xccdf/1.2", "http://checklists.nist.gov/xccdf/1.1")
FAILED_RESULTS = {"fail", "error"}


@dataclass
class ParsedReport:
    kind: str
    scanned_at: datetime.datetime | None = None
    tool_version: str = ""
    score: float | None = None
    score_max: float | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    warnings: int | None = None
    suggestions: int | None = None
    passed: int | None = None
    attestation: str = ""
    summary: dict = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)

    def add_finding(self, severity: str, finding: dict) -> None:
        self.counts[severity] += 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append({"severity": severity, **finding})


def _aware(moment: datetime.datetime | None) -> datetime.datetime | None:
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=datetime.UTC)


def _when(raw) -> datetime.datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return _aware(parse_datetime(raw.replace(" UTC", "").strip()))
    except ValueError:
        return None


# --- OpenSCAP -----------------------------------------------------------------------------


def parse_xccdf(data: bytes) -> ParsedReport:
    """`oscap xccdf eval --results` output (a Benchmark holding a TestResult), a bare
    TestResult, or an ARF report; XCCDF 1.1 or 1.2."""
    try:
        root = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException) as error:
        raise ValidationError(f"Not an XCCDF results file: the XML does not parse ({error}).") from None
    for ns in XCCDF_NAMESPACES:
        tests = [root] if root.tag == f"{{{ns}}}TestResult" else list(root.iter(f"{{{ns}}}TestResult"))
        if tests:
            break
    else:
        raise ValidationError("Not an XCCDF results file: it holds no TestResult (run oscap with --results).")
    test = tests[-1]

    def q(tag: str) -> str:
        return f"{{{ns}}}{tag}"

    rules = {rule.get("id"): rule for rule in root.iter(q("Rule"))}
    report = ParsedReport(kind=ScanKind.OPENSCAP, passed=0)
    report.scanned_at = _when(test.get("end-time")) or _when(test.get("start-time"))
    report.tool_version = test.get("test-system", "")[:100]
    scores = test.findall(q("score"))
    if not scores:
        raise ValidationError("The XCCDF TestResult has no score.")
    chosen = next((s for s in scores if s.get("system") == "urn:xccdf:scoring:default"), scores[0])
    try:
        report.score = float(chosen.text)
        report.score_max = float(chosen.get("maximum", "100"))
    except (TypeError, ValueError):
        raise ValidationError("The XCCDF score is not a number.") from None
    results: dict[str, int] = {}
    for rule_result in test.iter(q("rule-result")):
        outcome = (rule_result.findtext(q("result")) or "").strip()
        results[outcome] = results.get(outcome, 0) + 1
        if outcome == "pass":
            report.passed += 1
        if outcome not in FAILED_RESULTS:
            continue
        rule_id = rule_result.get("idref", "")
        rule = rules.get(rule_id)
        severity = rule_result.get("severity") or (rule.get("severity") if rule is not None else None) or "unknown"
        severity = severity if severity in SEVERITIES else "unknown"
        title = rule.findtext(q("title")) if rule is not None else ""
        report.add_finding(severity, {"id": rule_id, "title": (title or "").strip(), "result": outcome})
    if not results:
        raise ValidationError("The XCCDF TestResult holds no rule results.")
    profile = test.find(q("profile"))
    report.summary = {
        "profile": profile.get("idref") if profile is not None else "",
        "benchmark": root.get("id", ""),
        "results": results,
        "scoring": chosen.get("system", ""),
    }
    return report


# --- Lynis --------------------------------------------------------------------------------


def parse_lynis(data: bytes) -> ParsedReport:
    """A `lynis-report.dat`: key=value lines, `warning[]=` and `suggestion[]=` repeated."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    values: dict[str, str] = {}
    warnings, suggestions = [], []
    for line in text.splitlines():
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if key == "warning[]":
            warnings.append(value)
        elif key == "suggestion[]":
            suggestions.append(value)
        else:
            values[key] = value
    if "hardening_index" not in values:
        raise ValidationError("Not a Lynis report: it has no hardening_index (give lynis-report.dat).")
    try:
        index = int(values["hardening_index"])
    except ValueError:
        raise ValidationError("The Lynis hardening_index is not a whole number.") from None
    if not 0 <= index <= 100:
        raise ValidationError("The Lynis hardening_index must lie between 0 and 100.")
    report = ParsedReport(kind=ScanKind.LYNIS, score=float(index), score_max=100.0)
    report.scanned_at = _when(values.get("report_datetime_end")) or _when(values.get("report_datetime_start"))
    report.tool_version = values.get("lynis_version", "")[:100]
    report.warnings, report.suggestions = len(warnings), len(suggestions)
    for kind, entries in (("warning", warnings), ("suggestion", suggestions)):
        for entry in entries:
            test_id, _, rest = entry.partition("|")
            message = rest.split("|", 1)[0]
            if len(report.findings) < MAX_FINDINGS:
                report.findings.append({"type": kind, "id": test_id, "title": message})
    report.summary = {"os": values.get("os_fullname", ""), "tests_performed": values.get("lynis_tests_done", "")}
    return report


# --- Trivy and Grype ----------------------------------------------------------------------


def _severity(raw) -> str:
    value = str(raw or "unknown").lower()
    # Grype's "negligible" is below low; it counts with low rather than being lost.
    return {"negligible": "low"}.get(value, value if value in SEVERITIES else "unknown")


def _json(data: bytes, what: str):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(f"Not a {what} report: the JSON does not parse ({error}).") from None


def parse_trivy(data: bytes) -> ParsedReport:
    """Trivy's JSON: the current `{"SchemaVersion": 2, "Results": [...]}` or the older bare list."""
    payload = _json(data, "Trivy")
    if isinstance(payload, dict) and isinstance(payload.get("Results"), list):
        results, meta = payload["Results"], payload
    elif isinstance(payload, list):
        results, meta = payload, {}
    elif isinstance(payload, dict) and "Results" in payload and payload["Results"] is None:
        results, meta = [], payload  # a clean image: Trivy writes "Results": null
    else:
        raise ValidationError('Not a Trivy report: expected {"Results": [...]} or a list of results.')
    report = ParsedReport(kind=ScanKind.TRIVY)
    report.scanned_at = _when(meta.get("CreatedAt"))
    seen = set()
    for result in results:
        if not isinstance(result, dict) or "Target" not in result:
            raise ValidationError("Not a Trivy report: every result needs a Target.")
        vulnerabilities = result.get("Vulnerabilities") or []
        if not isinstance(vulnerabilities, list):
            raise ValidationError("Not a Trivy report: Vulnerabilities must be a list.")
        for vuln in vulnerabilities:
            if not isinstance(vuln, dict) or not vuln.get("VulnerabilityID"):
                raise ValidationError("Not a Trivy report: a vulnerability has no VulnerabilityID.")
            key = (vuln["VulnerabilityID"], vuln.get("PkgName"), vuln.get("InstalledVersion"))
            if key in seen:
                continue
            seen.add(key)
            report.add_finding(
                _severity(vuln.get("Severity")),
                {
                    "id": vuln["VulnerabilityID"],
                    "package": vuln.get("PkgName", ""),
                    "installed": vuln.get("InstalledVersion", ""),
                    "fixed": vuln.get("FixedVersion", ""),
                    "target": result["Target"],
                },
            )
    report.summary = {"artifact": meta.get("ArtifactName", ""), "targets": len(results)}
    return report


def parse_grype(data: bytes) -> ParsedReport:
    """Grype's JSON (`grype -o json`): `{"matches": [...], "descriptor": {...}}`."""
    payload = _json(data, "Grype")
    if not isinstance(payload, dict) or not isinstance(payload.get("matches"), list):
        raise ValidationError('Not a Grype report: expected {"matches": [...]}.')
    descriptor = payload.get("descriptor") or {}
    report = ParsedReport(kind=ScanKind.GRYPE)
    report.scanned_at = _when(descriptor.get("timestamp"))
    report.tool_version = str(descriptor.get("version", ""))[:100]
    seen = set()
    for match in payload["matches"]:
        vuln = match.get("vulnerability") if isinstance(match, dict) else None
        if not isinstance(vuln, dict) or not vuln.get("id"):
            raise ValidationError("Not a Grype report: a match has no vulnerability id.")
        artifact = match.get("artifact") or {}
        key = (vuln["id"], artifact.get("name"), artifact.get("version"))
        if key in seen:
            continue
        seen.add(key)
        fix = (vuln.get("fix") or {}).get("versions") or []
        report.add_finding(
            _severity(vuln.get("severity")),
            {
                "id": vuln["id"],
                "package": artifact.get("name", ""),
                "installed": artifact.get("version", ""),
                "fixed": ", ".join(fix),
            },
        )
    source = payload.get("source") or {}
    target = source.get("target")
    report.summary = {"target": target.get("userInput", "") if isinstance(target, dict) else str(target or "")}
    return report


# --- TEE attestation ----------------------------------------------------------------------


def parse_attestation(data: bytes) -> ParsedReport:
    """A verifier's verdict: `{"status": "verified" | "failed", "tee": "sev-snp", "verified_at": …,
    "measurement": "…", "detail": "…"}`."""
    payload = _json(data, "TEE attestation")
    if not isinstance(payload, dict):
        raise ValidationError("An attestation is a JSON object.")
    status = payload.get("status")
    if status not in AttestationStatus.values:
        raise ValidationError(f"An attestation's status must be one of: {', '.join(AttestationStatus.values)}.")
    report = ParsedReport(kind=ScanKind.ATTESTATION, attestation=status)
    report.scanned_at = _when(payload.get("verified_at"))
    report.summary = {
        key: str(payload.get(key, ""))[:500] for key in ("tee", "measurement", "verifier", "detail") if key in payload
    }
    return report


PARSERS = {
    ScanKind.OPENSCAP: parse_xccdf,
    ScanKind.LYNIS: parse_lynis,
    ScanKind.TRIVY: parse_trivy,
    ScanKind.GRYPE: parse_grype,
    ScanKind.ATTESTATION: parse_attestation,
}


def detect_kind(data: bytes, filename: str = "") -> str:
    """Which tool wrote a report, from its content (and name, for Lynis's .dat)."""
    head = data[:4096].lstrip()
    if head.startswith(b"<"):
        return ScanKind.OPENSCAP
    if b"hardening_index=" in data or filename.endswith(".dat") or head.startswith(b"# Lynis"):
        return ScanKind.LYNIS
    if head.startswith((b"{", b"[")):
        try:
            payload = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise ValidationError("The report is neither XML, a Lynis report nor valid JSON.") from None
        if isinstance(payload, list) or (isinstance(payload, dict) and "Results" in payload):
            return ScanKind.TRIVY
        if isinstance(payload, dict) and "matches" in payload:
            return ScanKind.GRYPE
        if isinstance(payload, dict) and "status" in payload and "tee" in payload:
            return ScanKind.ATTESTATION
    raise ValidationError("Cannot tell which tool wrote this report; name its kind.")


def parse_report(data: bytes, kind: str | None = None, filename: str = "") -> ParsedReport:
    """Parse a report of the given kind (detected from the content when not given)."""
    if not data.strip():
        raise ValidationError("The report is empty.")
    kind = kind or detect_kind(data, filename)
    if kind not in PARSERS:
        raise ValidationError(f"Unknown report kind '{kind}'.")
    return PARSERS[kind](data)
