"""Methods exports: gather the records, ask the checklist, compose the text, render it."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from batches.exports import received, records, renderers
from batches.exports.completeness import completeness as checklist_completeness
from batches.exports.document import FORMAT, FORMAT_VERSION, compose, fingerprint
from batches.models import SecretomeBatch, Study

FORMATS = ("md", "docx", "json")
CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "json": "application/json",
}


@dataclass(frozen=True)
class Rendered:
    content: bytes
    content_type: str
    filename: str


def _export(*, batches: list[SecretomeBatch], study: Study | None) -> dict:
    snapshot = records.snapshot(batches=batches, study=study)
    verdict = checklist_completeness(batches=batches, study=study)
    return _document(snapshot, verdict, study=study)


def _document(snapshot: dict, verdict: dict, *, study: Study | None) -> dict:
    document = compose(snapshot, verdict)
    codes = [batch["code"] for batch in snapshot["batches"]]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "subject": {
            "kind": "study" if study is not None else ("batch" if len(codes) == 1 else "batches"),
            "batches": codes,
            "study": study.title if study is not None else None,
        },
        "checklist_version": verdict["version"],
        "fingerprint": document["fingerprint"],
        "document": document,
        "records": snapshot,
        "checklist": verdict,
    }


def batches_methods_export(*, batch_ids: Iterable[int], scope) -> dict:
    """The methods export for these batches. `scope` is the queryset of batches the caller may read."""
    wanted = sorted(set(batch_ids))
    if not wanted:
        raise ValidationError({"batches": ["Give at least one batch id."]})
    found = list(records.batch_queryset().filter(pk__in=scope.filter(pk__in=wanted).values("pk")).order_by("code"))
    missing = sorted(set(wanted) - {batch.pk for batch in found})
    if missing:
        raise ValidationError({"batches": [f"No batch with id {', '.join(map(str, missing))} in your labs."]})
    return _export(batches=found, study=None)


def study_methods_export(*, study: Study) -> dict:
    """The methods export for a study: the batches it administered, the animals, doses and outcomes. A batch
    received from a partner lab is described from the provenance snapshot shipped with it."""
    loaded = records.study_queryset().get(pk=study.pk)
    snapshot, verdict, _own = received.study_inputs(loaded)
    if not snapshot["batches"]:
        raise ValidationError({"study": ["The study has no administrations, so no batch to describe."]})
    return _document(snapshot, verdict, study=loaded)


def filename(export: dict, extension: str) -> str:
    subject = export["subject"]
    if subject["kind"] == "study":
        stem = f"methods-study-{slugify(subject['study'])[:60]}"
    elif subject["kind"] == "batch":
        stem = f"methods-{subject['batches'][0]}"
    else:
        stem = f"methods-{len(subject['batches'])}-batches"
    return f"{stem}.{extension}"


def author(*, user, lab=None) -> str:
    """The DOCX author: the exporting user and the lab, 'Ada Lovelace (Demo Lab)'."""
    name = (user.get_full_name() or user.get_username()) if user is not None else ""
    lab_name = getattr(lab, "name", "") or ""
    if name and lab_name:
        return f"{name} ({lab_name})"
    return name or lab_name


def render(export: dict, fmt: str, *, author: str = "") -> Rendered:
    if fmt not in FORMATS:
        raise ValidationError({"format": [f"Choose one of: {', '.join(FORMATS)}."]})
    if fmt == "md":
        content = renderers.to_markdown(export["document"]).encode()
    elif fmt == "docx":
        content = renderers.to_docx(export["document"], author=author)
    else:
        content = renderers.to_json(export).encode()
    return Rendered(content=content, content_type=CONTENT_TYPES[fmt], filename=filename(export, fmt))


def recompose(export: dict) -> dict:
    """Rebuild the document from the export's own records and checklist verdict, checking its integrity."""
    if export.get("format") != FORMAT:
        raise ValidationError({"format": [f"Not a {FORMAT} export."]})
    if export.get("format_version") != FORMAT_VERSION:
        raise ValidationError(
            {"format_version": [f"Written by format version {export.get('format_version')}; this is {FORMAT_VERSION}."]}
        )
    if fingerprint(export["records"], export["checklist"]) != export.get("fingerprint"):
        raise ValidationError({"fingerprint": ["The records or the checklist verdict were changed after export."]})
    return compose(export["records"], export["checklist"])
