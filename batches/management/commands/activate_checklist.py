"""Put a checklist version in force; every batch and study is then re-checked with it."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from batches.checklist import active_checklist_version, available_versions
from batches.services.checklist import checklist_activate
from lims.management.base import AuditedCommand


class Command(AuditedCommand):
    help = "Activate a checklist version (see batches/checklists/*.yaml) and queue a re-check of everything."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("version", nargs="?", help="e.g. secretome-minimal-v1; omit to list the versions.")
        parser.add_argument("--note", default="", help="Why the version changes (kept in the audit trail).")

    def handle(self, *args, **options):
        active = active_checklist_version()
        if not options["version"]:
            for version in available_versions():
                marker = "*" if version == active else " "
                self.stdout.write(f"{marker} {version}")
            return
        actor = None
        if options.get("actor"):
            from django.contrib.auth import get_user_model

            actor = get_user_model().objects.get(username=options["actor"])
        try:
            activation = checklist_activate(version=options["version"], actor=actor, note=options["note"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        if active == activation.version:
            self.stdout.write(f"{activation.version} was already in force; nothing to re-check.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{activation.version} is in force; a re-check of every batch is queued.")
            )
