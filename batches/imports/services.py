"""Starting an import, running it (inline or on a worker) and giving back its files."""

import hashlib
import logging
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from batches.imports import workbooks
from batches.imports.engine import run_sheet
from batches.imports.files import ImportFileError, check_size, lines_at_most, read_table
from batches.imports.sheets import KINDS, sheet_for
from batches.models import ImportRun, ImportStatus
from lims.database import settings_conninfo
from lims.models import Lab
from lims.roles import WRITE_ROLES, require_role

logger = logging.getLogger(__name__)


def _table(run: ImportRun):
    return read_table(filename=run.filename, content=bytes(run.content))


def import_start(
    *,
    lab: Lab,
    actor,
    kind: str,
    filename: str,
    content: bytes,
    dry_run: bool = True,
    reason: str = "",
    checked_run: ImportRun | None = None,
    run_here: bool = False,
) -> ImportRun:
    """Check the file and start the import: small files run now, large ones on a worker (the run shows progress).

    `run_here` keeps a large file in this process too (the management command's scripted imports)."""
    require_role(actor, lab, WRITE_ROLES, "Importing records")
    if kind not in KINDS:
        raise ValidationError({"kind": [f"'{kind}' is not an import kind; choose one of: {', '.join(KINDS)}."]})
    try:
        check_size(filename=filename, size=len(content))
        lines = lines_at_most(filename=filename, content=content)
        queued = not run_here and lines is not None and lines - 1 > settings.IMPORT_INLINE_MAX_ROWS
        # A large file is read by the worker, not by the web process (the run then reports what is wrong with it).
        table = None if queued else read_table(filename=filename, content=content)
    except ImportFileError as error:
        raise ValidationError({"file": [str(error)]}) from None
    with transaction.atomic():
        run = ImportRun.objects.create(
            lab=lab,
            kind=kind,
            filename=filename[:255],
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            size_bytes=len(content),
            dry_run=dry_run,
            reason=(reason or "").strip()[:500],
            total_rows=lines - 1 if table is None else len(table.rows),
            started_by=actor,
            checked_run=checked_run,
        )
        if table is None:
            from batches.imports import tasks

            tasks.import_run.delay_on_commit(run_id=str(run.pk), actor_id=actor.pk)
            return run
    import_execute(run_id=run.pk, table=table)
    run.refresh_from_db()
    return run


def import_commit(*, run: ImportRun, actor, reason: str = "") -> ImportRun:
    """Import for real the file a dry run checked (with the reason given now, or the dry run's)."""
    return import_start(
        lab=run.lab,
        actor=actor,
        kind=run.kind,
        filename=run.filename,
        content=bytes(run.content),
        dry_run=False,
        reason=reason or run.reason,
        checked_run=run,
    )


class _Progress:
    """Counts rows on a connection of its own: the import's transaction is not visible until it ends."""

    def __init__(self, run_id):
        self.run_id = str(run_id)
        self.connection = None

    def __call__(self, done: int) -> None:
        if self.connection is None:
            self.connection = psycopg.connect(**settings_conninfo(connection.settings_dict), autocommit=True)
        self.connection.execute(
            "UPDATE batches_importrun SET done_rows = LEAST(%s, total_rows) WHERE id = %s", (done, self.run_id)
        )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def import_execute(*, run_id, table=None, watched: bool = False) -> ImportStatus | None:
    """Run a queued import once (a second delivery finds it claimed and does nothing)."""
    if not ImportRun.objects.filter(pk=run_id, status=ImportStatus.QUEUED).update(status=ImportStatus.RUNNING):
        return None
    run = ImportRun.objects.select_related("lab", "started_by").get(pk=run_id)
    progress = _Progress(run.pk) if watched else None
    try:
        if table is None:
            table = _table(run)
            ImportRun.objects.filter(pk=run_id).update(total_rows=len(table.rows))
            run.total_rows = len(table.rows)
        outcome = run_sheet(
            sheet=sheet_for(run.kind),
            table=table,
            lab=run.lab,
            actor=run.started_by,
            commit=not run.dry_run,
            reason=run.reason,
            context={"import_id": str(run.pk), "import_file": run.filename, "import_sha256": run.sha256},
            progress=progress,
        )
        result: dict[str, Any] = outcome.as_dict() | {"delimiter": table.delimiter, "format": table.format}
        status = (
            ImportStatus.COMMITTED
            if outcome.committed
            else ImportStatus.FAILED
            if outcome.problems
            else ImportStatus.CHECKED
        )
    except ImportFileError as error:
        result, status = (
            {"errors": [{"row": 0, "column": "", "heading": "", "message": str(error)}]},
            ImportStatus.FAILED,
        )
    except Exception as error:
        # Nothing was kept (the transaction rolled back); say so on the run rather than leave it "running".
        message = f"The import stopped unexpectedly ({type(error).__name__}); nothing was saved."
        logger.exception("import %s stopped unexpectedly", run_id)
        result, status = {"errors": [{"row": 0, "column": "", "heading": "", "message": message}]}, ImportStatus.FAILED
    finally:
        if progress is not None:
            progress.close()
    ImportRun.objects.filter(pk=run_id).update(
        status=status, result=result, done_rows=run.total_rows, finished_at=timezone.now()
    )
    return status


def import_errors_file(*, run: ImportRun, file_format: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of the uploaded file with its errors beside the rows."""
    stem = run.filename.rsplit(".", 1)[0]
    arguments = {
        "filename": run.filename,
        "content": bytes(run.content),
        "errors": run.errors,
        "delimiter": run.result.get("delimiter", ","),
    }
    if file_format == "xlsx":
        return (
            workbooks.errors_xlsx(**arguments),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{stem}-errors.xlsx",
        )
    return workbooks.errors_csv(**arguments), "text/csv; charset=utf-8", f"{stem}-errors.csv"


def import_template(*, kind: str, file_format: str) -> tuple[bytes, str, str]:
    sheet = sheet_for(kind)
    if file_format == "xlsx":
        return (
            workbooks.template_xlsx(sheet),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"secretome-lims-{kind}-template.xlsx",
        )
    return workbooks.template_csv(sheet), "text/csv; charset=utf-8", f"secretome-lims-{kind}-template.csv"
