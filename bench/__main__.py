"""Run the benchmarks and print one table: medians, p99 and ratios against same-run baselines.

Each benchmark is a module of this package with `run() -> list[dict]` (rows from
bench.common.row). Each runs against a fresh throwaway database of the configured backend:
PostgreSQL when DATABASE_URL points at one, otherwise a SQLite file in var/. A module that
fails is reported in the table (and the exit status); the others still run.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
import traceback

from bench.common import row

BENCHMARKS = ["audit", "record", "vote", "ledger", "usage", "metrics", "pages", "roadmap"]


def _format(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value == 0 or abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def print_table(rows: list[dict]) -> None:
    columns = ["benchmark", "metric", "median", "p99", "ratio", "unit", "note"]
    cells = [[_format(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) if cells else len(c) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    import django
    from django.conf import settings

    django.setup()
    # django-axes logs every force_login, and Celery every eager task, at INFO: thousands of
    # lines that hide the progress.
    for name in ("axes", "celery"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from django.db import connection
    from django.test import override_settings

    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(settings.VAR_DIR / "bench.sqlite3")
    names = argv or BENCHMARKS
    print(f"Benchmarks on {connection.vendor}: {', '.join(names)}", flush=True)
    rows: list[dict] = []
    failed = []
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"bench.{name}":
                print(f"(no benchmark named {name!r} yet)", flush=True)
                continue
            raise
        # Each module gets a fresh database: they all seat their own body (the same people
        # by name), and one module's volume must not weigh on another's figures.
        original = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        started = time.perf_counter()
        try:
            # Emails the modules' services send (new accounts, alerts) go to memory, not the console.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                rows.extend(module.run())
        except Exception as error:  # noqa: BLE001 - reported in the table; the other modules still run
            traceback.print_exc()
            failed.append(name)
            rows.append(row(name, "FAILED", None, note=f"{type(error).__name__}: {error}"[:120]))
        finally:
            connection.creation.destroy_test_db(original, verbosity=0)
        print(f"  {name}: done in {time.perf_counter() - started:.1f} s", flush=True)
    print()
    print_table(rows)
    if failed:
        print(f"\nFailed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
