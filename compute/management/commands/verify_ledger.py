from django.core.management.base import BaseCommand, CommandError

from compute.services.credits import verification


class Command(BaseCommand):
    help = (
        "Check the credit ledger from its entries: every transaction sums to zero, every cached "
        "balance equals its entries, no pool is over-committed."
    )

    def handle(self, *args, **options):
        report = verification.verify_ledger()
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(problem)
            count, checked = len(report.problems), report.transactions
            raise CommandError(f"Credit ledger inconsistent: {count} problem(s) in {checked} transaction(s).")
        self.stdout.write(
            self.style.SUCCESS(f"Credit ledger consistent: {report.transactions} transaction(s) checked.")
        )
