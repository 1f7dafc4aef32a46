"""Dump the configured database with pg_dump and write a manifest (row counts, audit chain head) beside it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from lims.backups import BackupError, backup, manifest_path


class Command(BaseCommand):
    help = (
        "Back up the database: pg_dump (custom format) of one consistent snapshot, plus <file>.manifest.json with "
        "every table's row count, the audit chain head and the dump's SHA-256, for `restore` to verify against."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Where to write the dump, e.g. var/backups/lims-2025-03-01.dump")
        parser.add_argument("--database", default="default", help="Django database alias (default: default).")

    def handle(self, *args, file: Path, database: str, **options):
        if database not in connections:
            raise CommandError(f"--database: no database alias {database!r}")
        if file.exists():
            raise CommandError(f"{file} exists; choose a new file name (backups are never overwritten)")
        try:
            manifest = backup(settings_dict=connections[database].settings_dict, dump=file)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        chain = manifest["audit_chain"]
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Backed up {manifest['database']['name']} (PostgreSQL {manifest['database']['server_version']}): "
            f"{len(manifest['tables'])} tables, {rows} rows, {manifest['dump']['bytes']} bytes → {file}\n"
            f"Manifest: {manifest_path(file.expanduser().resolve())}\n"
            f"Audit chain head (keep it; `verify_audit --anchor` checks it later): "
            f"{chain['head_seq']}:{chain['head_hash']}"
        )
        if chain["ok"]:
            self.stdout.write(self.style.SUCCESS("Audit chain verified before the backup."))
        else:
            self.stderr.write(
                self.style.WARNING(
                    "WARNING: the audit chain of the source does NOT verify; the backup was written anyway and "
                    "its manifest lists the problems:\n  " + "\n  ".join(chain["problems"])
                )
            )
