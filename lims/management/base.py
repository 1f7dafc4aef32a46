"""Management commands whose writes are attributed in the audit trail."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from lims.audit import command_context


class AuditedCommand(BaseCommand):
    """Wraps handle() in an audit context naming the command, the OS user and, with --actor, the LIMS user."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        self._command_name = subcommand
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--actor", help="Username the changes are attributed to in the audit trail.")

    def execute(self, *args, **options):
        actor = None
        if options.get("actor"):
            try:
                actor = get_user_model().objects.get(username=options["actor"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"--actor: no user named {options['actor']!r}") from None
        with command_context(getattr(self, "_command_name", type(self).__module__.rsplit(".", 1)[-1]), actor):
            return super().execute(*args, **options)
