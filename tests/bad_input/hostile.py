"""Hostile values, as the probe of issue 16 sent them, and hypothesis strategies around them.

The fixed lists are the values that once gave a 500 somewhere (NUL, lone surrogates, line
breaks, Unicode digits, ids past 2^63, dates past 9999 or before 1, impossible dates and offsets,
formula prefixes, huge numbers and long text); the strategies add generated text made of the
same kinds of characters, and numbers around the edges of 64 bits.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from hypothesis import strategies as st

TEXT = [
    "\x00",
    "a\x00b",
    "line\r\nbreak",
    "carriage\rreturn",
    "\t=cmd|' /C calc'!A0",
    '=HYPERLINK("https://evil.example","click")',
    "@SUM(1+1)",
    "²",
    "١٢٣",
    "𝟙𝟚",
    "9" * 24,
    str(2**63),
    str(-(2**63) - 1),
    "-1",
    "0",
    "1e308",
    "-1e308",
    "1e-400",
    "NaN",
    "Infinity",
    "9999-12-31",
    "0001-01-01",
    "1900-01-01",
    "2026-02-30",
    "2026-13-01",
    "2026-01-01T00:00:00+25:00",
    "9999-12-31T23:59:59Z",
    "Europe/Atlantis",
    " ",
    "",
    "x" * 20_000,
    "'; DROP TABLE governance_user; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\u202egnp.exe",
    "\u2028",
]
# What only JSON can carry: lone surrogates, and values of other types than text.
JSON_ONLY = [
    "\ud800",
    "x\udfffy",
    None,
    True,
    False,
    0,
    -1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**24,
    1.7e308,
    -1.7e308,
    1e-320,
    [],
    {},
    [[[[]]]],
    {"a": {"b": "\x00"}},
    ["\ud800"],
    [2**70],
    list(range(1500)),
    {"\x00": 1},
]

# Characters of the kinds that broke something: controls, surrogates, digits of other scripts,
# line and paragraph separators, formula prefixes.
_NASTY = st.characters(categories=["Cc", "Cs", "Nd", "No", "Zl", "Zp", "Sm"]) | st.sampled_from("=+-@\t\r\n")
_NASTY_PRINTABLE = st.characters(categories=["Cc", "Nd", "No", "Zl", "Zp", "Sm"]) | st.sampled_from("=+-@\t\r\n")
_EDGE_INTEGERS = st.integers(min_value=-(2**70), max_value=2**70)


def json_values() -> st.SearchStrategy:
    """Any value a hostile JSON client could put in a field."""
    return st.one_of(
        st.sampled_from(TEXT + JSON_ONLY),
        st.text(_NASTY, max_size=12),
        _EDGE_INTEGERS,
        st.floats(allow_nan=False, allow_infinity=False),
    )


def form_values() -> st.SearchStrategy:
    """Any value a hostile browser could post (form bodies are UTF-8: no lone surrogates)."""
    return st.one_of(
        st.sampled_from(TEXT),
        st.text(_NASTY_PRINTABLE, max_size=12),
        _EDGE_INTEGERS.map(str),
    )


APPS = ("governance", "charters", "compute", "roadmap")


def row_counts() -> dict[str, int]:
    """The number of rows of every table of the portal's apps, in one query."""
    tables = sorted(
        model._meta.db_table
        for label in APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    )
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT '{table}', COUNT(*) FROM {quote(table)}" for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())
