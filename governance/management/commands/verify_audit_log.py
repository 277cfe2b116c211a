from django.core.management.base import BaseCommand, CommandError

from governance.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and report the first broken link."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event id {report.first_broken} ({report.checked} event(s) checked)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} event(s) checked."))
