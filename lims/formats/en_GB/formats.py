"""The same dates for British English (the project's language), the locale's input formats kept."""

from django.conf.locale.en_GB.formats import *  # noqa: F403

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
