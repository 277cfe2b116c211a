from django.core.management.base import BaseCommand, CommandError

from governance.audit import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit log: every commitment against its event, the tree against the log's newest "
        "signed checkpoint, and that against each sector's witness. Exit 0 when all holds, 1 otherwise."
    )

    def handle(self, *args, **options):
        report = verify_chain()
        for witness in report.witnesses:
            agrees = "agrees" if witness["agrees"] else "DISAGREES"
            self.stdout.write(f"witness {witness['sector']} {witness['name']}: size {witness['size']}, {agrees}")
        if not report.ok:
            where = f" at event id {report.first_broken}" if report.first_broken is not None else ""
            raise CommandError(
                f"Audit log broken{where} ({report.checked} event(s) checked):\n  " + "\n  ".join(report.problems)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit log intact: {report.checked} event(s) checked, "
                f"tree size {report.tree_size}, root {report.root}."
            )
        )
