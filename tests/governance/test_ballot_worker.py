"""A real Celery worker on Redis runs the ballot tasks against the real (PostgreSQL) database:
the opening notice enqueued on commit is sent, and a due ballot is closed and announced."""

from __future__ import annotations

import datetime
import tempfile
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
from tests.processes import Process, celery, portal_env, wait_for


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.usefixtures("real_celery")
@FAST_HASHING
class CeleryWorkerTests(TransactionTestCase):
    def setUp(self):
        self.body = make_body()
        # Messages left by earlier tests (enqueued on commit, never consumed) are not ours.
        app.control.purge()
        self.mail_dir = Path(tempfile.mkdtemp(prefix="tgb-worker-mail-"))
        env = portal_env(
            connection.settings_dict["NAME"],
            settings.REDIS_URL,
            EMAIL_URL=f"filemail:///{self.mail_dir}",
            CONN_MAX_AGE="0",
        )
        self.worker = Process(
            "ballot-worker",
            celery("worker", "--pool=solo", "--without-gossip", "--without-mingle", "--loglevel=INFO"),
            env=env,
        ).start()

    def tearDown(self):
        self.worker.stop()

    def mails(self) -> str:
        return "\n".join(path.read_text() for path in self.mail_dir.glob("*.log"))

    def wait(self, condition, what: str, timeout: float = 90) -> None:
        try:
            wait_for(condition, timeout, what)
        except AssertionError as error:
            raise AssertionError(f"{error}\nworker log:\n{self.worker.output()}") from None

    def test_the_worker_sends_the_opening_notice_and_closes_the_ballot_when_due(self):
        body = self.body
        ballot = services.create_ballot(
            body.public_chair,
            committee=body.committee,
            title="Adopt the meeting calendar",
            subject_type=SubjectType.MOTION,
            closes_at=timezone.now() + datetime.timedelta(hours=1),
        )
        services.open_ballot(body.public_chair, ballot)  # commits: the notice goes to Redis
        # The committee's minimum voting period has "passed": the closing time comes in 2 s.
        Ballot.objects.filter(pk=ballot.pk).update(closes_at=timezone.now() + datetime.timedelta(seconds=2))
        services.cast_vote(body.public_chair, ballot, "yes")
        services.cast_vote(body.private_chair, ballot, "yes")

        self.wait(lambda: Ballot.objects.get(pk=ballot.pk).opened_notice_at is not None, "the opening notice")
        self.wait(lambda: "[TGB] Ballot open: Adopt the meeting calendar" in self.mails(), "the opening email")

        self.wait(lambda: Ballot.objects.get(pk=ballot.pk).is_past_closing, "the closing time", timeout=10)
        tasks.close_due_ballots.delay()  # what beat does every minute
        tasks.close_due_ballots.delay()  # and again: the second run finds nothing to do
        self.wait(lambda: Ballot.objects.get(pk=ballot.pk).result_notice_at is not None, "the result notice")
        closed = Ballot.objects.get(pk=ballot.pk)
        self.assertEqual((closed.status, closed.outcome, closed.closed_by), (BallotStatus.CLOSED, "passed", None))
        self.wait(
            lambda: '"Adopt the meeting calendar" of Technical Governance Body is closed: passed.' in self.mails(),
            "the result email",
        )
