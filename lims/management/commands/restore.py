"""Restore a backup into an empty database and verify row counts and the audit chain against its manifest."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lims.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a dump written by `backup` into an EMPTY database (pg_restore, one transaction), then check that "
        "every table has the row count recorded in the manifest and that the audit hash chain verifies and ends at "
        "the same head. Exit status 1 on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The dump written by `manage.py backup`.")
        parser.add_argument(
            "--database-url", required=True, help="postgres://user:password@host:port/name of an empty database."
        )
        parser.add_argument("--manifest", type=Path, default=None, help="Default: <file>.manifest.json")

    def handle(self, *args, file: Path, database_url: str, manifest: Path | None, **options):
        try:
            report = restore(dump=file, database_url=database_url, manifest_file=manifest)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        chain = report.chain
        self.stdout.write(
            f"Restored {file} into {report.database}: {report.tables} tables, {report.rows} rows; "
            f"audit chain {chain.sealed} sealed events, head #{chain.head_seq} {chain.head_hash}"
        )
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS("Verified: every table's row count and the audit chain match the source.")
            )
            return
        for problem in report.problems:
            self.stderr.write(f"  {problem}")
        raise CommandError(f"the restored database does NOT match the backup: {report.problems[0]}", returncode=1)
