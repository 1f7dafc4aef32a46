"""Run the checklist over the batches (and studies) of a lab, or of every lab, with a progress bar."""

from django.core.management.base import CommandError
from tqdm import tqdm

from batches.models import SecretomeBatch, Study
from batches.services.checklist import batch_check_many, study_check_many
from batches.tasks import SWEEP_CHUNK_SIZE, batch_check_chunk, study_check_chunk
from lims.management.base import AuditedCommand
from lims.models import Lab


class Command(AuditedCommand):
    help = "Check batches and studies against the active checklist: --lab <slug or id> (repeatable) or --all."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--lab", action="append", default=[], help="Lab slug or id; repeat for several labs.")
        parser.add_argument("--all", action="store_true", help="Every lab.")
        parser.add_argument("--chunk-size", type=int, default=SWEEP_CHUNK_SIZE, help="Batches per transaction.")
        parser.add_argument(
            "--queue", action="store_true", help="Hand the chunks to Celery workers instead of checking here."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (logs, CI).")

    def _labs(self, options) -> list[Lab]:
        if options["all"] == bool(options["lab"]):
            raise CommandError("Give --lab <slug or id> (one or more) or --all, not both and not neither.")
        if options["all"]:
            return list(Lab.objects.order_by("pk"))
        labs = []
        for key in options["lab"]:
            lookup = {"pk": int(key)} if key.isdigit() else {"slug": key}
            lab = Lab.objects.filter(**lookup).first()
            if lab is None:
                raise CommandError(f"--lab: no lab with slug or id {key!r}")
            labs.append(lab)
        return labs

    def handle(self, *args, **options):
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size: must be at least 1")
        labs = self._labs(options)
        lab_ids = [lab.pk for lab in labs]
        size = options["chunk_size"]
        batch_ids = list(SecretomeBatch.objects.filter(lab_id__in=lab_ids).order_by("pk").values_list("pk", flat=True))
        study_ids = list(Study.objects.filter(lab_id__in=lab_ids).order_by("pk").values_list("pk", flat=True))
        new_reports = 0
        with tqdm(
            total=len(batch_ids) + len(study_ids),
            unit="record",
            desc="Checking",
            disable=options["no_progress"],
            file=self.stderr,
        ) as progress:
            for kind, ids in (("batch", batch_ids), ("study", study_ids)):
                for start in range(0, len(ids), size):
                    chunk = ids[start : start + size]
                    if options["queue"]:
                        if kind == "batch":
                            batch_check_chunk.delay(batch_ids=chunk)
                        else:
                            study_check_chunk.delay(study_ids=chunk)
                    elif kind == "batch":
                        new_reports += batch_check_many(batch_ids=chunk)
                    else:
                        new_reports += study_check_many(study_ids=chunk)
                    progress.update(len(chunk))
        names = ", ".join(lab.slug for lab in labs) or "no lab"
        verb = "Queued" if options["queue"] else "Checked"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(batch_ids)} batches and {len(study_ids)} studies ({names}); {new_reports} new reports."
            )
        )
