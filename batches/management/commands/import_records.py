"""Import a spreadsheet from a script: a dry run by default, --commit to keep the records."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from batches.imports.services import import_start
from batches.imports.sheets import KINDS
from batches.models import ImportStatus
from lims.management.base import AuditedCommand
from lims.models import Lab


class Command(AuditedCommand):
    help = "Import a CSV or XLSX sheet (a template's kind) into a lab: dry run unless --commit; all or nothing."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument("--lab", required=True, help="Lab slug or id.")
        parser.add_argument("--commit", action="store_true", help="Keep the records (default: dry run).")
        parser.add_argument("--reason", default="", help="Kept in the audit trail with every change.")

    def handle(self, *args, **options):
        actor = self._actor(options)
        key = options["lab"]
        lab = Lab.objects.filter(**({"pk": int(key)} if key.isdigit() else {"slug": key})).first()
        if lab is None:
            raise CommandError(f"--lab: no lab with slug or id {key!r}")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            run = import_start(
                lab=lab,
                actor=actor,
                kind=options["kind"],
                filename=path.name,
                content=path.read_bytes(),
                dry_run=not options["commit"],
                reason=options["reason"],
                run_here=True,
            )
        except PermissionDenied as denied:
            raise CommandError(str(denied)) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        totals = run.result.get("totals", {})
        self.stdout.write(
            f"{run.filename}: {run.total_rows} rows — {totals.get('create', 0)} new, "
            f"{totals.get('update', 0)} changed, "
            f"{totals.get('unchanged', 0)} unchanged records · {run.get_status_display()} (import {run.pk})"
        )
        for column in run.result.get("unknown_columns", []):
            self.stdout.write(f"not a column of this sheet, ignored: {column}")
        for error in run.errors:
            where = f"row {error['row']}" + (f", column {error['column']}" if error["column"] else "")
            heading = f" ({error['heading']})" if error["heading"] else ""
            self.stderr.write(f"{where}{heading}: {error['message']}")
        if run.status == ImportStatus.FAILED:
            raise CommandError(f"{len(run.errors)} problem(s); nothing was saved.")

    def _actor(self, options):
        from django.contrib.auth import get_user_model

        if not options.get("actor"):
            raise CommandError("--actor <username> is required: imports are made by a member of the lab.")
        return get_user_model().objects.get(username=options["actor"])
