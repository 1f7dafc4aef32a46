"""One date format on every page, whatever a template forgets to say: 2025-03-01 and 2025-03-01 10:00.

Only how dates are shown changes; what a form accepts stays the locale's (plus ISO, which Django adds).
"""

from django.conf.locale.en.formats import *  # noqa: F403

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
