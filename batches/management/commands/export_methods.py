"""Write the methods section of batches or of a study: `manage.py export_methods --batch SB-25-001 --format md`."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from batches.exports import crate, methods
from batches.models import SecretomeBatch, Study
from protocols.selectors import protocol_versions_for_batch


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())


class Command(BaseCommand):
    help = "Export the methods section (md, docx, json) or an RO-Crate (rocrate) of batches or a study."

    def add_arguments(self, parser):
        subject = parser.add_mutually_exclusive_group(required=True)
        subject.add_argument("--batch", action="append", metavar="CODE", help="Batch code; repeat for several.")
        subject.add_argument("--study", type=int, metavar="ID", help="Study id.")
        parser.add_argument("--lab", metavar="SLUG", help="Lab slug, when the code exists in several labs.")
        parser.add_argument("--format", choices=(*methods.FORMATS, "rocrate"), default="md")
        parser.add_argument("--output", "-o", metavar="PATH", help="File to write; Markdown and JSON go to stdout.")

    def handle(self, *args, **options):
        fmt = options["format"]
        if fmt in {"docx", "rocrate"} and not options["output"]:
            raise CommandError(f"--output: a {fmt} export is binary; name a file to write it to.")
        batches = SecretomeBatch.objects.all()
        studies = Study.objects.all()
        if options["lab"]:
            batches = batches.filter(lab__slug=options["lab"])
            studies = studies.filter(lab__slug=options["lab"])
        try:
            if options["study"] is not None:
                study = studies.filter(pk=options["study"]).first()
                if study is None:
                    raise CommandError(f"--study: no study with id {options['study']}.")
                export = methods.study_methods_export(study=study)
            else:
                export = methods.batches_methods_export(
                    batch_ids=self._batch_ids(batches, options["batch"]), scope=batches
                )
        except ValidationError as error:
            raise CommandError(_describe(error)) from error
        if fmt == "rocrate":
            chosen = batches.filter(code__in=export["subject"]["batches"], lab__in=self._labs(batches, export))
            versions = {v.pk: v for batch in chosen for v in protocol_versions_for_batch(batch=batch)}
            content = crate.build_crate(
                export, protocol_versions=sorted(versions.values(), key=lambda v: (v.protocol.code, v.number))
            )
        else:
            content = methods.render(export, fmt).content
        if options["output"]:
            Path(options["output"]).write_bytes(content)
            self.stderr.write(f"Wrote {options['output']} (fingerprint {export['fingerprint']}).")
        else:
            self.stdout.write(content.decode(), ending="")

    def _batch_ids(self, batches, codes: list[str]) -> list[int]:
        ids = []
        for code in codes:
            found = list(batches.filter(code=code).values_list("pk", flat=True))
            if not found:
                raise CommandError(f"--batch: no batch with code {code!r}.")
            if len(found) > 1:
                raise CommandError(f"--batch: {code!r} exists in several labs; name one with --lab.")
            ids.append(found[0])
        return ids

    def _labs(self, batches, export):
        return batches.filter(code__in=export["subject"]["batches"]).values("lab_id")
