"""The portal as `make run` starts it, seeded with the demo body, for the journeys and the crawl.

One server per test session: a child `manage.py runserver` on a database of its own (a fresh
PostgreSQL database when the suite runs on PostgreSQL, else a SQLite file), migrated and seeded
by `seed_demo` exactly as a fresh clone's `make run` does. Tasks run in the web process
(CELERY_TASK_ALWAYS_EAGER), since no worker runs beside it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from governance.management.commands.seed_demo import DEMO_PASSWORD
from tests.browser.axe import assert_accessible
from tests.browser.login import log_in
from tests.processes import Process, free_port, manage, port_open, wait_for

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@dataclass
class DemoPortal:
    url: str
    env: dict[str, str]
    server: Process


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{name}"


def _postgres(*statements: str) -> None:
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
    ) as conn:
        for statement in statements:
            conn.execute(statement)


def _fresh_postgres_database(name: str) -> None:
    _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def stop_demo_portal(portal: DemoPortal) -> None:
    portal.server.stop()
    if portal.env["DATABASE_URL"].startswith("postgres"):
        _postgres(f'DROP DATABASE IF EXISTS "{portal.env["DATABASE_URL"].rsplit("/", 1)[1]}" WITH (FORCE)')
    shutil.rmtree(portal.env["TGB_VAR_DIR"], ignore_errors=True)


def start_demo_portal() -> DemoPortal:
    var_dir = tempfile.mkdtemp(prefix="tgb-demo-portal-")
    env = {
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "TGB_VAR_DIR": var_dir,
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "REDIS_URL": "",
        "DATABASE_URL": f"sqlite:///{var_dir}/db.sqlite3",
        "DEBUG": "0",
    }
    if connection.vendor == "postgresql":
        name = f"{settings.DATABASES['default']['NAME']}_demo_portal"
        _fresh_postgres_database(name)
        env["DATABASE_URL"] = _database_url(name)
    for step in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        process = Process(f"demo-{step[0]}", manage(*step), env=env).start()
        code = process.proc.wait(timeout=600)
        assert code == 0, f"{step[0]} failed:\n{process.output()[-3000:]}"
    port = free_port()
    server = Process("demo-portal", manage("runserver", f"127.0.0.1:{port}", "--noreload"), env=env).start()
    wait_for(lambda: port_open(port), 60, "the demo portal to listen")
    return DemoPortal(url=f"http://127.0.0.1:{port}", env=env, server=server)


@dataclass
class Journey:
    """Steps of one journey: each is screenshotted and checked with axe as it is reached."""

    name: str
    page: object
    portal: DemoPortal
    steps: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        path = ARTIFACTS / "journeys" / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def step(self, title: str, *, accessible: bool = True) -> None:
        self.steps.append(title)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        self.page.screenshot(path=str(self.folder / f"{len(self.steps):02d}-{slug}.png"), full_page=True)
        if accessible:
            assert_accessible(self.page, f"{self.name}, step {len(self.steps)} ({title})")

    def go(self, path: str) -> None:
        self.page.goto(self.portal.url + path)

    def log_in(self, username: str) -> None:
        log_in(self.page, self.portal.url, username, DEMO_PASSWORD)
