"""Recompute the audit hash chain and report the first event that does not match."""

from django.core.management.base import BaseCommand, CommandError

from lims.audit_chain import verify_default_database


class Command(BaseCommand):
    help = (
        "Recompute the audit hash chain over every history event and say whether anything was changed, "
        "removed or added behind the application's back. Exit status 1 names the first event that does not match."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=20, help="How many problems of each kind to list (default 20)."
        )

    def handle(self, *args, limit: int, **options):
        if limit < 1:
            raise CommandError("--limit: must be at least 1")
        report = verify_default_database(limit_per_check=limit)
        summary = f"{report.sealed} sealed events in {report.tables} tables; head #{report.head_seq} {report.head_hash}"
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {summary}"))
            return
        self.stderr.write(self.style.ERROR(f"Audit chain does NOT verify: {summary}"))
        ordered = sorted(report.problems, key=lambda p: (p.seq is None, p.seq or 0))
        for problem in ordered:
            self.stderr.write(f"  [{problem.kind}] {problem.describe()}")
        raise CommandError(f"first mismatch at {report.first_problem.describe()}", returncode=1)
