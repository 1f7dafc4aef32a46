"""Render a methods section from an exported JSON file alone: `manage.py render_methods export.json`."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from batches.exports import methods, renderers


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())


class Command(BaseCommand):
    help = (
        "Rebuild the methods text from the records and checklist verdict inside an export JSON, check it against "
        "the text stored there, and print it as Markdown (or write DOCX)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A JSON file written by export_methods or the API (format=json).")
        parser.add_argument("--format", choices=("md", "docx"), default="md")
        parser.add_argument("--output", "-o", metavar="PATH", help="File to write; Markdown goes to stdout.")

    def handle(self, *args, **options):
        try:
            export = json.loads(Path(options["path"]).read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"path: cannot read {options['path']}: {error.strerror}.") from error
        except json.JSONDecodeError as error:
            raise CommandError(f"path: not JSON ({error.msg} at line {error.lineno}).") from error
        if not isinstance(export, dict) or not {"records", "checklist", "document"} <= export.keys():
            raise CommandError("path: not a methods export (needs records, checklist and document).")
        try:
            document = methods.recompose(export)
        except ValidationError as error:
            raise CommandError(_describe(error)) from error
        except (KeyError, TypeError, ValueError) as error:
            raise CommandError(f"records: the export's records are incomplete or malformed ({error!r}).") from error
        if document != export["document"]:
            raise CommandError("document: the text stored in the file differs from the text its records give.")
        if options["format"] == "docx":
            if not options["output"]:
                raise CommandError("--output: DOCX is binary; name a file to write it to.")
            Path(options["output"]).write_bytes(renderers.to_docx(document))
            return
        text = renderers.to_markdown(document)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
