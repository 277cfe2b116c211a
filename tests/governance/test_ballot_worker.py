"""A real Celery worker on Redis runs the ballot tasks against the real (PostgreSQL) database:
the opening notice enqueued on commit is sent, and a due ballot is closed and announced."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from governance import services, tasks
from governance.celery import app
from governance.choices import BallotStatus, SubjectType
from governance.models import Ballot
from tests.base import make_body
from tests.governance.ballot_support import FAST_HASHING


def wait_for(condition, timeout: float = 90, every: float = 0.5):
    """Poll until the condition holds (a worker takes its time to start on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


@pytest.mark.postgres
@pytest.mark.redis
@FAST_HASHING
class CeleryWorkerTests(TransactionTestCase):
    def setUp(self):
        self.body = make_body()
        # Messages left by earlier tests (enqueued on commit, never consumed) are not ours.
        app.control.purge()
        self.mail_dir = Path(tempfile.mkdtemp(prefix="tgb-worker-mail-"))
        database = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "EMAIL_URL": f"filemail:///{self.mail_dir}",
            "CONN_MAX_AGE": "0",
        }
        self.worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "governance",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def tearDown(self):
        self.worker.terminate()
        try:
            self.worker.wait(20)
        except subprocess.TimeoutExpired:
            self.worker.kill()

    def mails(self) -> str:
        return "\n".join(path.read_text() for path in self.mail_dir.glob("*.log"))

    def test_the_worker_sends_the_opening_notice_and_closes_the_ballot_when_due(self):
        body = self.body
        ballot = services.create_ballot(
            body.public_chair,
            committee=body.committee,
            title="Adopt the meeting calendar",
            subject_type=SubjectType.MOTION,
            closes_at=timezone.now() + datetime.timedelta(seconds=2),
        )
        services.open_ballot(body.public_chair, ballot)  # commits: the notice goes to Redis
        services.cast_vote(body.public_chair, ballot, "yes")
        services.cast_vote(body.private_chair, ballot, "yes")

        self.assertTrue(
            wait_for(lambda: Ballot.objects.get(pk=ballot.pk).opened_notice_at is not None),
            f"the worker did not send the opening notice: {self.worker.stderr.read1().decode()[-2000:]}"
            if self.worker.poll() is not None
            else "the worker did not send the opening notice",
        )
        self.assertTrue(wait_for(lambda: "[TGB] Ballot open: Adopt the meeting calendar" in self.mails()))

        self.assertTrue(wait_for(lambda: Ballot.objects.get(pk=ballot.pk).is_past_closing, timeout=10))
        tasks.close_due_ballots.delay()  # what beat does every minute
        tasks.close_due_ballots.delay()  # and again: the second run finds nothing to do
        self.assertTrue(wait_for(lambda: Ballot.objects.get(pk=ballot.pk).result_notice_at is not None))
        closed = Ballot.objects.get(pk=ballot.pk)
        self.assertEqual((closed.status, closed.outcome, closed.closed_by), (BallotStatus.CLOSED, "passed", None))
        self.assertTrue(
            wait_for(
                lambda: '"Adopt the meeting calendar" of Technical Governance Body is closed: passed.' in self.mails()
            )
        )
