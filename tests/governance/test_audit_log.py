"""The audit log is append-only and hash-chained; tampering is found and located."""

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import TransactionTestCase

from governance import services
from governance.audit import record_event, verify_chain
from governance.choices import Sector
from governance.models import AuditEvent, Organization, User
from governance.models.base import AppendOnlyError
from governance.transparency.integrate import integrate
from governance.transparency.proof import commitment
from tests.base import PortalTestCase


def tamper(event: AuditEvent, **fields) -> None:
    """Change a stored event the way someone with raw database access would: triggers off."""
    assignments = ", ".join(f"{name} = %s" for name in fields)
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser can switch triggers off for the session: the attacker we guard against.
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*fields.values(), event.pk])  # noqa: S608
            cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER governance_auditevent_no_update")
            cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*fields.values(), event.pk])  # noqa: S608


def remove(event: AuditEvent) -> None:
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])  # noqa: S608
            cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])  # noqa: S608


class AuditLogTests(PortalTestCase):
    def test_setting_up_the_body_left_an_intact_chain_of_events(self):
        report = verify_chain()
        self.assertTrue(report.ok)
        self.assertEqual(report.checked, AuditEvent.objects.count())
        self.assertGreater(report.checked, 20)

    def test_membership_and_role_changes_are_logged(self):
        verbs = set(AuditEvent.objects.values_list("verb", flat=True))
        self.assertTrue({"membership.created", "user.roles_changed", "permission.granted"} <= verbs)
        event = AuditEvent.objects.filter(verb="membership.created", object_repr__startswith="Ana").get()
        self.assertEqual(event.actor, self.admin)
        self.assertEqual(event.changes["after"]["role"], "chair")

    def test_a_tampered_event_is_reported_as_the_first_broken_link(self):
        victim = AuditEvent.objects.order_by("id")[5]
        tamper(victim, object_repr="Someone else")
        report = verify_chain()
        self.assertFalse(report.ok)
        self.assertEqual(report.first_broken, victim.pk)
        self.assertEqual(report.checked, AuditEvent.objects.count())

    def test_a_removed_leaf_breaks_the_log_at_the_next_one(self):
        integrate()
        events = list(AuditEvent.objects.order_by("leaf_index")[:4])
        remove(events[2])
        self.assertEqual(verify_chain().first_broken, events[3].pk)

    def test_a_rewritten_event_with_a_recomputed_commitment_no_longer_matches_the_signed_checkpoint(self):
        integrate()
        forged = AuditEvent.objects.order_by("leaf_index")[1]
        forged.changes = {"before": {}, "after": {"forged": True}}
        tamper(
            forged,
            changes='{"before": {}, "after": {"forged": true}}',
            commitment=commitment(bytes(forged.salt), forged.entry()),
        )
        report = verify_chain()
        self.assertFalse(report.ok)
        self.assertIn("does not match the checkpoint the log signed", " ".join(report.problems))

    def test_the_model_refuses_to_change_or_delete_an_event(self):
        event = AuditEvent.objects.first()
        event.verb = "nothing.happened"
        with self.assertRaises(AppendOnlyError):
            event.save()
        with self.assertRaises(AppendOnlyError):
            event.delete()
        with self.assertRaises(AppendOnlyError):
            AuditEvent.objects.all().delete()

    def test_the_database_refuses_a_raw_update(self):
        table = AuditEvent._meta.db_table
        with self.assertRaises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET verb = 'x'")  # noqa: S608

    def test_the_verify_endpoint_reports_the_chain_to_an_auditor(self):
        response = self.api(self.auditor).get("/api/audit-events/verify/")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(
            {key: body[key] for key in ("ok", "checked", "first_broken")},
            {"ok": True, "checked": AuditEvent.objects.count(), "first_broken": None},
        )
        self.assertEqual(set(body) - {"problems"}, {"ok", "checked", "first_broken", "tree_size", "root", "witnesses"})
        victim = AuditEvent.objects.order_by("id")[2]
        tamper(victim, verb="membership.deleted")
        self.assertEqual(self.api(self.auditor).get("/api/audit-events/verify/").json()["first_broken"], victim.pk)

    def test_members_and_outsiders_cannot_read_the_audit_log(self):
        for person in (self.public_member, self.staff, self.outsider):
            self.assertEqual(self.api(person).get("/api/audit-events/").status_code, 403)
            self.assertEqual(self.api(person).get("/api/audit-events/verify/").status_code, 403)
        self.assertEqual(self.api().get("/api/audit-events/").status_code, 401)

    def test_the_audit_log_cannot_be_changed_through_the_api(self):
        event = AuditEvent.objects.first()
        client = self.api(self.admin)
        self.assertEqual(client.delete(f"/api/audit-events/{event.pk}/").status_code, 405)
        self.assertEqual(client.patch(f"/api/audit-events/{event.pk}/", {"verb": "x"}).status_code, 405)

    def test_the_command_passes_on_an_intact_chain_and_fails_on_a_broken_one(self):
        out = StringIO()
        call_command("verify_audit_log", stdout=out)
        self.assertIn("intact", out.getvalue())
        victim = AuditEvent.objects.order_by("id")[1]
        tamper(victim, actor_repr="mallory")
        with self.assertRaisesMessage(CommandError, f"broken at event id {victim.pk}"):
            call_command("verify_audit_log")


@pytest.mark.postgres
class ConcurrentAuditTests(TransactionTestCase):
    """Writers racing on PostgreSQL still build one unbroken chain."""

    def test_concurrent_writers_never_fork_the_chain(self):
        admin = User.objects.create_superuser("root", "root@example.org", "x-long-password")
        errors = []

        def write(n: int) -> None:
            try:
                for i in range(10):
                    services.create_organization(admin, name=f"Org {n}-{i}", sector=Sector.PUBLIC)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(Organization.objects.count(), 80)
        report = verify_chain()
        self.assertTrue(report.ok, report)
        self.assertEqual(report.checked, 80)

    def test_an_event_recorded_in_a_rolled_back_transaction_leaves_no_trace(self):
        admin = User.objects.create_superuser("root", "root@example.org", "x-long-password")
        with pytest.raises(RuntimeError), transaction.atomic():
            record_event(admin, "test.happened", admin)
            raise RuntimeError
        self.assertEqual(AuditEvent.objects.count(), 0)
        self.assertTrue(verify_chain().ok)
