"""Witnesses, one per sector, in their own processes: they cosign what extends what they saw,
refuse forks, rewinds and bad proofs, and catch the database administrator's rewrite."""

from __future__ import annotations

import requests
from django.db import connection

from governance import services
from governance.choices import Sector
from governance.models import AuditEvent, Cosignature, LogCheckpoint, LogNode, LogState
from governance.transparency import merkle, tree
from governance.transparency.integrate import integrate, push_latest, verified_checkpoint
from governance.transparency.keys import log_signer, witness_policy
from governance.transparency.note import Checkpoint, Signer, b64, sign_note
from governance.transparency.proof import commitment
from governance.transparency.verify import verify_log
from tests.governance.transparency.witnesses import WitnessedLogCase, start_witness


class WitnessTests(WitnessedLogCase):
    def test_both_witnesses_cosign_and_the_checkpoint_counts_only_then(self):
        integrate()
        self.assertIsNone(verified_checkpoint())
        results = push_latest()
        self.assertEqual({r.status for r in results}, {"cosigned"}, results)
        checkpoint, note = verified_checkpoint()
        self.assertEqual(checkpoint.size, AuditEvent.objects.count())
        policy = witness_policy()
        for sector in ("public", "private"):
            self.assertTrue(any(note.verified_by(key) for key in policy[sector]))
        report = verify_log()
        self.assertTrue(report.ok, report.problems)
        self.assertEqual([w["agrees"] for w in report.witnesses], [True, True])

    def test_a_later_checkpoint_is_cosigned_through_a_consistency_proof(self):
        integrate()
        push_latest()
        first = tree.tree_size()
        services.create_organization(self.admin, name="Later Org", sector=Sector.PRIVATE)
        integrate()
        self.assertEqual({r.status for r in push_latest()}, {"cosigned"})
        self.assertGreater(verified_checkpoint()[0].size, first)

    def test_a_witness_refuses_a_stale_old_size_with_its_own_size(self):
        integrate()
        push_latest()
        size = tree.tree_size()
        note = LogCheckpoint.objects.get(size=size).note
        response = self.add(self.public, f"old 0\n\n{note}")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.headers["Content-Type"], "text/x.tlog.size")
        self.assertEqual(response.text, f"{size}\n")

    def test_a_witness_refuses_a_fork_and_a_rewind(self):
        integrate()
        push_latest()
        size, signer = tree.tree_size(), log_signer()
        # A fork: the same size, another root, signed with the log's own key.
        fork = sign_note(Checkpoint(signer.name, size, bytes(32)).text(), signer).render()
        self.assertEqual(self.add(self.public, f"old {size}\n\n{fork}").status_code, 409)
        # A rewind: a smaller tree, offered as if the witness had seen nothing, or from its size.
        rewind = sign_note(Checkpoint(signer.name, size - 3, tree.root(size - 3)).text(), signer).render()
        response = self.add(self.private, f"old {size - 5}\n\n{rewind}")
        self.assertEqual((response.status_code, response.text), (409, f"{size}\n"))
        self.assertEqual(self.add(self.private, f"old {size}\n\n{rewind}").status_code, 400)

    def test_a_witness_refuses_a_bad_proof_with_422(self):
        integrate()
        push_latest()
        old = tree.tree_size()
        services.create_organization(self.admin, name="Proof Target", sector=Sector.PUBLIC)
        integrate()
        new = tree.tree_size()
        note = LogCheckpoint.objects.get(size=new).note
        proof = tree.consistency_proof(old, new)
        bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
        body = f"old {old}\n" + "".join(b64(h) + "\n" for h in bad) + "\n" + note
        self.assertEqual(self.add(self.public, body).status_code, 422)
        good = f"old {old}\n" + "".join(b64(h) + "\n" for h in proof) + "\n" + note
        response = self.add(self.public, good)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.text.startswith("\u2014 "))

    def test_a_witness_refuses_unknown_logs_bad_signatures_and_garbage(self):
        stranger = Signer.generate(log_signer().name)
        forged = sign_note(Checkpoint(stranger.name, 1, bytes(32)).text(), stranger).render()
        self.assertEqual(self.add(self.public, f"old 0\n\n{forged}").status_code, 403)
        other = Signer.generate("elsewhere.example/log")
        unknown = sign_note(Checkpoint(other.name, 1, bytes(32)).text(), other).render()
        self.assertEqual(self.add(self.public, f"old 0\n\n{unknown}").status_code, 404)
        for garbage in ("", "old 01\n\nx", "hello", "old 0\nnot-base64!\n\nx\n\n\u2014 a AAAAAAA=\n"):
            self.assertEqual(self.add(self.public, garbage).status_code, 400, garbage)
        self.assertEqual(requests.get(f"{self.public.url}/nothing", timeout=5).status_code, 404)

    def test_the_witness_persists_its_state_across_a_restart(self):
        integrate()
        push_latest()
        size = tree.tree_size()
        self.public.process.stop()
        self.public = start_witness("public", self.directory)
        self.addCleanup(lambda: self.public.process.stop())
        self.witness_file.write_text(self.public.line() + self.private.line())
        note = LogCheckpoint.objects.get(size=size).note
        self.assertEqual(self.add(self.public, f"old 0\n\n{note}").text, f"{size}\n")


class RewriteAttackTests(WitnessedLogCase):
    """The host's database administrator rewrites history and recomputes everything they can."""

    def rewrite(self, victim: AuditEvent, resign: bool) -> None:
        """Change an event, recompute every commitment after it, rebuild the tree, maybe re-sign."""
        table = AuditEvent._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = replica")
            else:
                cursor.execute("DROP TRIGGER governance_auditevent_no_update")
                cursor.execute("DROP TRIGGER governance_lognode_no_update")
            victim.changes = {"before": {}, "after": {"name": "Rewritten Ministry"}}
            cursor.execute(
                f"UPDATE {table} SET changes = %s, commitment = %s WHERE id = %s",  # noqa: S608
                [
                    '{"before": {}, "after": {"name": "Rewritten Ministry"}}',
                    commitment(bytes(victim.salt), victim.entry()),
                    victim.pk,
                ],
            )
            cursor.execute(f"DELETE FROM {LogNode._meta.db_table}")  # noqa: S608
            cursor.execute(f"DELETE FROM {Cosignature._meta.db_table}")  # noqa: S608
            cursor.execute(f"DELETE FROM {LogCheckpoint._meta.db_table}")  # noqa: S608
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
        leaves = [
            merkle.leaf_hash(bytes(c))
            for c in AuditEvent.objects.order_by("leaf_index").values_list("commitment", flat=True)
        ]
        rebuilt = merkle.MemoryTree(leaves)
        LogNode.objects.bulk_create(
            LogNode(level=level, index=index, hash=value)
            for level, row in enumerate(rebuilt.levels)
            for index, value in enumerate(row)
        )
        LogState.objects.filter(pk=1).update(size=rebuilt.size, root=rebuilt.root())
        if resign:
            signer = log_signer()
            note = sign_note(Checkpoint(signer.name, rebuilt.size, rebuilt.root()).text(), signer)
            LogCheckpoint.objects.create(size=rebuilt.size, root=rebuilt.root(), note=note.render())

    def test_a_rewrite_re_signed_with_the_log_key_is_caught_by_the_witnesses(self):
        integrate()
        push_latest()
        self.assertTrue(verify_log().ok)
        victim = AuditEvent.objects.filter(verb="organization.created").order_by("leaf_index").first()
        self.rewrite(victim, resign=True)
        report = verify_log()
        self.assertFalse(report.ok)
        self.assertEqual([w["agrees"] for w in report.witnesses], [False, False])
        self.assertIn("witness cosigned another root", " ".join(report.problems))
        # And the witnesses will not cosign the rewritten tree going forward.
        services.create_organization(self.admin, name="After The Rewrite", sector=Sector.PUBLIC)
        integrate()
        self.assertEqual({r.status for r in push_latest()}, {"refused"})
        self.assertIsNone(verified_checkpoint())

    def test_a_rewrite_without_re_signing_is_caught_without_the_witnesses(self):
        integrate()
        push_latest()
        victim = AuditEvent.objects.order_by("leaf_index")[3]
        self.rewrite(victim, resign=False)
        report = verify_log(check_witnesses=False)
        self.assertFalse(report.ok)
        self.assertIn("the log has leaves but no signed checkpoint", report.problems)

    def test_cutting_the_last_events_is_caught_by_the_witnesses(self):
        integrate()
        push_latest()
        size = tree.tree_size()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = replica")
            cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE leaf_index >= %s", [size - 3])  # noqa: S608
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
        report = verify_log()
        self.assertFalse(report.ok)
        self.assertIn("history was cut", " ".join(report.problems))
