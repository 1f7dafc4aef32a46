"""Recompute the audit hash chain and report the first event that does not match."""

from django.core.management.base import BaseCommand, CommandError

from lims.audit_chain import problem_order, verify_default_database


def _anchor(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or int(seq) < 1 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise CommandError(f"--anchor: expected SEQ:HASH such as 207:84a67…(64 hex digits), got {text!r}")
    return int(seq), digest


class Command(BaseCommand):
    help = (
        "Recompute the audit hash chain over every history event and say whether anything was changed, "
        "removed or added behind the application's back. Exit status 1 lists every problem found and names the first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=20, help="How many problems of each kind to list (default 20)."
        )
        parser.add_argument(
            "--anchor",
            default=None,
            help="SEQ:HASH of a chain head recorded earlier (printed by this command, kept in backup manifests); "
            "the chain must still hold it, which catches the newest events being removed with their seals.",
        )

    def handle(self, *args, limit: int, anchor: str | None, **options):
        if limit < 1:
            raise CommandError("--limit: must be at least 1")
        report = verify_default_database(limit_per_check=limit, anchor=_anchor(anchor) if anchor else None)
        summary = f"{report.sealed} sealed events in {report.tables} tables; head {report.head_seq}:{report.head_hash}"
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {summary}"))
            return
        self.stderr.write(self.style.ERROR(f"Audit chain does NOT verify: {summary}"))
        ordered = sorted(report.problems, key=problem_order)
        for problem in ordered:
            self.stderr.write(f"  [{problem.kind}] {problem.describe()}")
        kinds = sorted({problem.kind for problem in report.problems})
        raise CommandError(
            f"{len(report.problems)} problems ({', '.join(kinds)}); first at {report.first_problem.describe()}",
            returncode=1,
        )
