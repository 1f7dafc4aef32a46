"""Instrument files → QC results, through the QC service, with the raw file kept and linked by its hash."""

import datetime as dt
import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from batches.imports.files import ImportFileError, check_size
from batches.imports.instruments import InstrumentFileError, Reading, nta, plate, zetaview
from batches.models import InstrumentFile, SecretomeBatch
from batches.services.qc import qc_result_record
from lims.audit import audit_context
from lims.models import Lab
from lims.roles import WRITE_ROLES, require_role

INSTRUMENTS = ("nta", "zetaview", "plate")


class _RollBack(Exception):
    pass


def instrument_read(
    *,
    instrument: str,
    filename: str,
    content: bytes,
    layout_name: str = "",
    layout: bytes | None = None,
    assay: str = "",
    analyte: str = "",
) -> Reading:
    try:
        check_size(filename=filename, size=len(content))
    except ImportFileError as error:
        raise ValidationError({"file": [str(error)]}) from None
    try:
        if instrument == "nta":
            return nta.parse(filename=filename, content=content)
        if instrument == "zetaview":
            return zetaview.parse(filename=filename, content=content)
        if instrument == "plate":
            if layout is None:
                raise ValidationError({"layout": ["A plate needs its layout file (STD / BLANK / SAMPLE wells)."]})
            return plate.parse(
                filename=filename, content=content, layout_name=layout_name, layout=layout, assay=assay, analyte=analyte
            )
    except InstrumentFileError as error:
        field = "layout" if layout_name and str(error).startswith(layout_name) else "file"
        raise ValidationError({field: [str(error)]}) from None
    raise ValidationError({"instrument": [f"'{instrument}' is not one of: {', '.join(INSTRUMENTS)}."]})


def instrument_import(
    *,
    lab: Lab,
    actor,
    batch: SecretomeBatch,
    instrument: str,
    filename: str,
    content: bytes,
    performed_on: dt.date | None = None,
    layout_name: str = "",
    layout: bytes | None = None,
    assay: str = "",
    analyte: str = "",
    dry_run: bool = True,
) -> dict[str, Any]:
    """Read the export and record its QC results (kept only when not a dry run); the raw file is stored once."""
    require_role(actor, lab, WRITE_ROLES, "Importing instrument files")
    if batch.lab_id != lab.pk:
        raise ValidationError({"batch": ["The batch belongs to another lab."]})
    reading = instrument_read(
        instrument=instrument,
        filename=filename,
        content=content,
        layout_name=layout_name,
        layout=layout,
        assay=assay,
        analyte=analyte,
    )
    if instrument == "plate" and assay == "elisa" and not analyte:
        raise ValidationError({"analyte": ["Name what the ELISA measures (e.g. IL-10)."]})
    sha256 = hashlib.sha256(content).hexdigest()
    summary: dict[str, Any] = {"reading": reading.as_dict(), "sha256": sha256, "dry_run": dry_run, "results": []}
    try:
        with transaction.atomic(), audit_context(actor=actor, instrument_file=filename, instrument_sha256=sha256):
            raw, _ = InstrumentFile.objects.get_or_create(
                lab=lab,
                sha256=sha256,
                defaults={
                    "instrument": instrument,
                    "filename": filename[:255],
                    "content": content,
                    "size_bytes": len(content),
                    "parsed": reading.as_dict(),
                    "uploaded_by": actor,
                },
            )
            for measurement in reading.measurements:
                result = qc_result_record(
                    lab=lab,
                    actor=actor,
                    data={
                        "batch": batch,
                        "assay": measurement.assay,
                        "analyte": measurement.analyte,
                        "method": reading.method,
                        "instrument": reading.instrument[:120],
                        "value": measurement.value,
                        "unit": measurement.unit,
                        "performed_on": performed_on or timezone.localdate(),
                        "raw_data": raw.reference[:300],
                    },
                )
                summary["results"].append(
                    {
                        "id": None if dry_run else result.pk,
                        "assay": result.assay,
                        "analyte": result.analyte,
                        "value": result.value,
                        "unit": result.unit,
                        "outcome": result.outcome,
                        "raw_data": result.raw_data,
                    }
                )
            summary["instrument_file"] = None if dry_run else raw.pk
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    return summary
