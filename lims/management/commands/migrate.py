"""`migrate` runs as the database owner, then grants the application role its row access (lims.db_roles)."""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from lims.db_roles import application_role, as_owner, grant_application_role


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        alias = options["database"]
        role = application_role(alias)
        with as_owner(alias):
            super().handle(*args, **options)
            if role is not None:
                with connections[alias].cursor() as cursor:
                    grant_application_role(cursor=cursor, role=role)
                if options["verbosity"] >= 1:
                    self.stdout.write(f"Granted row access to the application role {role}.")
