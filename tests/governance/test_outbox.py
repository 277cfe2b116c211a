"""Tasks are recorded with the change that needs them: none lost when the broker is down,
none sent for a change that rolled back."""

import tempfile
import time
from pathlib import Path

import pytest
import requests
from django.core import mail
from django.db import connection, transaction
from django.test import TransactionTestCase

from governance import services
from governance.models import OutboxTask, User
from governance.services import tokens
from tests.base import PASSWORD, PortalTestCase
from tests.processes import Process, celery, free_port, manage, port_open, portal_env, redis_server, wait_for


class OutboxTests(PortalTestCase):
    def test_a_new_account_holder_is_emailed_once_the_account_is_committed(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.api(self.admin).post(
                "/api/users/", {"username": "zoe", "password": PASSWORD, "email": "zoe@example.org"}, format="json"
            )
        self.assertEqual(response.status_code, 201)
        self.assertEqual([m.to for m in mail.outbox], [["zoe@example.org"]])
        self.assertNotIn(PASSWORD, mail.outbox[0].body)
        entry = OutboxTask.objects.get(task="governance.tasks.send_account_created_email", args=[response.json()["id"]])
        self.assertIsNotNone(entry.sent_at)

    def test_a_change_that_rolls_back_sends_nothing(self):
        before = OutboxTask.objects.count()
        with self.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
            services.create_user(self.admin, username="ghost", password=PASSWORD, email="ghost@example.org")
            raise RuntimeError
        self.assertEqual(OutboxTask.objects.count(), before)
        self.assertEqual(mail.outbox, [])


@pytest.mark.postgres
@pytest.mark.redis
class RedisOutageTests(TransactionTestCase):
    """The real portal, worker and beat against a Redis that goes down and comes back."""

    def test_the_portal_keeps_serving_while_redis_is_down_and_the_task_runs_when_it_is_back(self):
        redis_port, web_port = free_port(), free_port()
        mail_dir = Path(tempfile.mkdtemp(prefix="tgb-mail-"))
        admin = User.objects.create_superuser("admin", "admin@example.org", PASSWORD)
        token, _ = tokens.issue_token(admin)
        env = portal_env(
            connection.settings_dict["NAME"],
            f"redis://127.0.0.1:{redis_port}/0",
            EMAIL_URL=f"filemail:///{mail_dir}",  # three slashes and an absolute path
            OUTBOX_FLUSH_SECONDS="2",
            TGB_VAR_DIR=tempfile.mkdtemp(prefix="tgb-var-"),
            PYTHONUNBUFFERED="1",
        )
        redis = redis_server(redis_port).start()
        web = Process("web", manage("runserver", "--noreload", f"127.0.0.1:{web_port}"), env).start()
        worker = Process(
            "worker", celery("worker", "--pool=solo", "--without-gossip", "--without-mingle", "--loglevel=INFO"), env
        ).start()
        beat = Process("beat", celery("beat", "--loglevel=INFO", "-s", str(mail_dir / "beat-schedule")), env).start()
        processes = [beat, worker, web, redis]
        api = f"http://127.0.0.1:{web_port}/api"
        headers = {"Authorization": f"Token {token}"}

        def emails_to(address: str) -> int:
            return sum(address in path.read_text() for path in mail_dir.glob("*.log"))

        def create(username: str) -> requests.Response:
            return requests.post(
                f"{api}/users/",
                json={"username": username, "password": PASSWORD, "email": f"{username}@example.org"},
                headers=headers,
                timeout=30,
            )

        try:
            wait_for(lambda: port_open(web_port) and port_open(redis_port), 60, "the portal and Redis")
            self.assertEqual(create("before").status_code, 201)
            wait_for(lambda: emails_to("before@example.org") == 1, 60, "the first email")

            redis.stop()
            started = time.monotonic()
            response = create("during")
            self.assertEqual(response.status_code, 201, response.text)
            self.assertLess(time.monotonic() - started, 20, "a request must not hang on a broker that is down")
            self.assertEqual(requests.get(f"{api}/committees/", headers=headers, timeout=30).status_code, 200)
            waiting = OutboxTask.objects.get(args=[response.json()["id"]])
            self.assertIsNone(waiting.sent_at)
            self.assertTrue(waiting.last_error)

            redis = redis_server(redis_port).start()
            processes[-1] = redis
            wait_for(lambda: emails_to("during@example.org") == 1, 120, "the email held back during the outage")
            self.assertEqual(emails_to("before@example.org"), 1)
            self.assertIsNotNone(OutboxTask.objects.get(pk=waiting.pk).sent_at)
        except AssertionError:
            for process in processes:
                print(f"--- {process.name}\n{process.output()}")
            raise
        finally:
            for process in processes:
                process.stop()
