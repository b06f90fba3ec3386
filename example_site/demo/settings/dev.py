"""Local development and `make demo`."""

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = True
# Messages the demo "sends" are written to files you can open.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = BASE_DIR / "sent_mail"
