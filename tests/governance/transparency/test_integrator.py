"""The integrator gives committed events dense leaf indices in batches, extends the stored tree
and signs checkpoints that never contradict each other; the database allows it nothing else."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import TransactionTestCase

from governance import services
from governance.audit import record_event
from governance.choices import Sector
from governance.models import AuditEvent, LogCheckpoint, LogNode, Organization, User
from governance.transparency import merkle, tree
from governance.transparency.integrate import LogInconsistent, integrate
from governance.transparency.keys import log_verifier
from governance.transparency.note import open_checkpoint
from governance.transparency.proof import commitment
from tests.base import PortalTestCase


def raw(sql: str, params=()) -> None:
    """A statement as someone with a database client would send it."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class IntegratorTests(PortalTestCase):
    def test_a_recorded_event_commits_to_its_content_and_waits_for_its_leaf(self):
        event = AuditEvent.objects.order_by("id").last()
        self.assertIsNone(event.leaf_index)
        self.assertEqual(len(bytes(event.salt)), 32)
        self.assertEqual(bytes(event.commitment), commitment(bytes(event.salt), event.entry()))

    def test_integration_numbers_the_events_densely_and_signs_the_tree(self):
        count = AuditEvent.objects.count()
        self.assertEqual(integrate(batch_size=7), count)
        indices = list(AuditEvent.objects.order_by("id").values_list("leaf_index", flat=True))
        self.assertEqual(indices, list(range(count)))
        note, checkpoint = open_checkpoint(LogCheckpoint.objects.get(size=count).note, log_verifier())
        leaves = [
            merkle.leaf_hash(bytes(c))
            for c in AuditEvent.objects.order_by("leaf_index").values_list("commitment", flat=True)
        ]
        self.assertEqual(checkpoint.root, merkle.MemoryTree(leaves).root())
        self.assertEqual(tree.root(count), checkpoint.root)
        # Batches of seven: one checkpoint per batch, each consistent with the one before.
        sizes = list(LogCheckpoint.objects.order_by("size").values_list("size", flat=True))
        self.assertEqual(sizes[-1], count)
        self.assertEqual(len(sizes), -(-count // 7))

    def test_an_idle_run_writes_and_locks_nothing(self):
        from django.test.utils import CaptureQueriesContext

        integrate()
        with CaptureQueriesContext(connection) as idle:
            self.assertEqual(integrate(), 0)
        statements = [q["sql"].upper() for q in idle]
        self.assertTrue(statements)
        self.assertFalse([sql for sql in statements if "FOR UPDATE" in sql or not sql.startswith("SELECT")])

    def test_a_second_run_with_nothing_new_signs_nothing_and_new_events_extend_the_tree(self):
        integrate()
        before = LogCheckpoint.objects.count()
        self.assertEqual(integrate(), 0)
        self.assertEqual(LogCheckpoint.objects.count(), before)
        old_size = tree.tree_size()
        services.create_organization(self.admin, name="Late Arrivals Ltd", sector=Sector.PRIVATE)
        self.assertGreaterEqual(integrate(), 1)
        new_size = tree.tree_size()
        proof = tree.consistency_proof(old_size, new_size)
        self.assertTrue(merkle.verify_consistency(old_size, new_size, tree.root(old_size), tree.root(new_size), proof))

    def test_the_database_lets_the_integrator_set_a_leaf_index_once_and_nothing_else(self):
        event = AuditEvent.objects.order_by("id").first()
        table = AuditEvent._meta.db_table
        with self.assertRaises(DatabaseError), transaction.atomic():
            raw(f"UPDATE {table} SET leaf_index = 5000, verb = 'forged' WHERE id = %s", [event.pk])  # noqa: S608
        raw(f"UPDATE {table} SET leaf_index = 5000 WHERE id = %s", [event.pk])  # noqa: S608
        with self.assertRaises(DatabaseError), transaction.atomic():
            raw(f"UPDATE {table} SET leaf_index = 5001 WHERE id = %s", [event.pk])  # noqa: S608
        with self.assertRaises(DatabaseError), transaction.atomic():
            raw(f"UPDATE {table} SET leaf_index = NULL WHERE id = %s", [event.pk])  # noqa: S608

    def test_the_database_refuses_to_change_a_node_of_the_tree(self):
        integrate()
        with self.assertRaises(DatabaseError), transaction.atomic():
            raw(f"UPDATE {LogNode._meta.db_table} SET hash = %s", [bytes(32)])  # noqa: S608

    def test_the_log_refuses_to_sign_a_tree_that_does_not_extend_its_last_checkpoint(self):
        integrate()
        table = LogNode._meta.db_table
        if connection.vendor == "postgresql":
            raw("SET session_replication_role = replica")
        else:
            raw("DROP TRIGGER governance_lognode_no_update")
        raw(f'UPDATE {table} SET hash = %s WHERE "index" = 0', [bytes(32)])  # noqa: S608
        if connection.vendor == "postgresql":
            raw("SET session_replication_role = origin")
        services.create_organization(self.admin, name="After The Forgery", sector=Sector.PUBLIC)
        with pytest.raises(LogInconsistent):
            integrate()


@pytest.mark.postgres
class ConcurrentIntegrationTests(TransactionTestCase):
    """Writers and integrators racing on PostgreSQL: no event lost, none twice, indices dense."""

    def test_concurrent_writers_and_integrators_build_one_dense_log(self):
        admin = User.objects.create_superuser("root", "root@example.org", "x-long-password")
        errors: list[BaseException] = []
        writing = threading.Event()

        def write(n: int) -> None:
            try:
                for i in range(15):
                    services.create_organization(admin, name=f"Org {n}-{i}", sector=Sector.PUBLIC)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                connection.close()

        def integrator() -> None:
            try:
                while not writing.is_set():
                    integrate(batch_size=10)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                connection.close()

        writers = [threading.Thread(target=write, args=(n,)) for n in range(6)]
        integrators = [threading.Thread(target=integrator) for _ in range(3)]
        for thread in writers + integrators:
            thread.start()
        for thread in writers:
            thread.join()
        writing.set()
        for thread in integrators:
            thread.join()
        self.assertEqual(errors, [])
        integrate()
        self.assertEqual(Organization.objects.count(), 90)
        indices = sorted(AuditEvent.objects.values_list("leaf_index", flat=True))
        self.assertEqual(indices, list(range(AuditEvent.objects.count())))
        self.assertEqual(tree.tree_size(), len(indices))

    def test_an_event_of_a_rolled_back_transaction_never_becomes_a_leaf(self):
        admin = User.objects.create_superuser("root", "root@example.org", "x-long-password")
        integrate()
        size = tree.tree_size()
        with pytest.raises(RuntimeError), transaction.atomic():
            record_event(admin, "test.happened", admin)
            raise RuntimeError
        integrate()
        self.assertEqual(tree.tree_size(), size)
