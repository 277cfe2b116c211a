"""Values in range, once: the checks every app's models apply to what people type or send.

Installed on the models' own fields when the apps are ready (governance.apps), so a model's
`full_clean()` — which the services, the forms and the API serializers all run — refuses the
same values on every way in:
- text holds no NUL and no lone surrogate (PostgreSQL cannot store either, and a page or a
  JSON answer that echoes one cannot be encoded); a CharField is one line (no CR, LF or other
  control character: titles become e-mail subjects and iCal summaries);
- JSON values hold no such text either, at any depth;
- dates fall between 2000 and 2100 unless a model says otherwise in its own clean().
Ids, timezones and jurisdictions are checked where they are parsed, with the helpers below.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# The largest id any table of the portal uses (a signed 64-bit key).
MAX_ID = 2**63 - 1
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2100, 12, 31)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")
_ASCII_ID = re.compile(r"[0-9]{1,19}")

# ISO 3166-1 alpha-2, and the regions whose law a charter may name: the EU, the EEA, and "UK"
# (ISO reserves it for the United Kingdom beside GB).
ISO_3166_ALPHA_2 = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC
    EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK
    HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB
    LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU
    RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN
    TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split()
)
REGIONS = frozenset({"EU", "EEA", "UK"})
JURISDICTIONS = ISO_3166_ALPHA_2 | REGIONS


def storable_text(value: object) -> None:
    """Refuse NUL and lone surrogates: no database column can hold them, no page can show them."""
    if isinstance(value, str) and _UNSTORABLE.search(value):
        raise ValidationError(
            "This text holds a NUL character or a broken Unicode character (a lone surrogate).",
            code="unstorable_text",
        )


def single_line(value: object) -> None:
    """Refuse line breaks and other control characters in a one-line value (a title, a name)."""
    if isinstance(value, str) and _CONTROL.search(value):
        storable_text(value)
        raise ValidationError(
            "This must be a single line, without line breaks or control characters.", code="single_line"
        )


def storable_json(value: object) -> None:
    """storable_text for every key and string of a JSON value (NUL in JSON is a DataError on
    PostgreSQL). JSON reaching here is bounded in depth (governance.limits)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            storable_text(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)


@deconstructible
class DateHorizon:
    """A date (or the date of a datetime) between `earliest` and `latest`."""

    def __init__(self, earliest: datetime.date = EARLIEST, latest: datetime.date = LATEST):
        self.earliest, self.latest = earliest, latest

    def __call__(self, value: object) -> None:
        day = value.date() if isinstance(value, datetime.datetime) else value
        if isinstance(day, datetime.date) and not self.earliest <= day <= self.latest:
            raise ValidationError(
                "Give a date between %(earliest)s and %(latest)s.",
                code="date_horizon",
                params={"earliest": self.earliest.isoformat(), "latest": self.latest.isoformat()},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateHorizon) and (self.earliest, self.latest) == (other.earliest, other.latest)


within_horizon = DateHorizon()


def parse_id(value: object, *, what: str = "id") -> int:
    """An id as the portal accepts it: ASCII digits only (not "²", "٣" or " 1"), 1 to 2^63-1."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _ASCII_ID.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise ValidationError(f"“{printable(value)}” is not a valid {what}.", code="invalid_id")
    return int(text)


def optional_id(value: object) -> int | None:
    """parse_id, or None for anything that is not an id (for lookups that then find nothing)."""
    try:
        return parse_id(value)
    except ValidationError:
        return None


def printable(value: object, limit: int = 40) -> str:
    """A value as an error message may quote it: shortened, with unprintable characters escaped."""
    text = str(value)
    text = text if len(text) <= limit else text[:limit] + "…"
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def one_line(text: str) -> str:
    """Text for a header (an e-mail subject, an iCal summary): control characters and line
    breaks become spaces, so a value stored before the single-line rule cannot split a header."""
    return " ".join(_CONTROL.sub(" ", text).split())


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_timezone(value: object) -> None:
    """An IANA timezone name known to this system ("Europe/Brussels", "UTC")."""
    if not isinstance(value, str) or value not in _timezones():
        raise ValidationError(f"“{printable(value)}” is not a known timezone.", code="invalid_timezone")


def valid_jurisdiction(value: object) -> None:
    """A country as ISO 3166-1 alpha-2 ("DE", "GB") or a named region ("EU", "EEA", "UK")."""
    if not isinstance(value, str) or value.strip().upper() not in JURISDICTIONS:
        raise ValidationError(
            f"“{printable(value)}” is not a jurisdiction: give a country code (ISO 3166, e.g. DE) or EU, EEA, UK.",
            code="invalid_jurisdiction",
        )


def install_field_checks(models) -> None:
    """Add the portal's text, JSON and date checks to the fields of `models`.

    Appended to each field's computed validators (not to the ones a migration records), so the
    rule holds everywhere without a migration per field. A field that already refuses such
    values (choices, e-mail, URL) gains nothing harmful from the extra check.
    """
    from django.db import models as m

    for model in models:
        for field in model._meta.concrete_fields:
            if isinstance(field, m.CharField):
                check = single_line
            elif isinstance(field, m.TextField):
                check = storable_text
            elif isinstance(field, m.JSONField):
                check = storable_json
            elif isinstance(field, m.DateField):  # DateTimeField included
                check = within_horizon
            else:
                continue
            if check not in field.validators:
                field.validators.append(check)
