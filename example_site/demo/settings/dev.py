"""Local development and `make demo`."""

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = True
# Messages the demo "sends" are written to files you can open (headers
# included), unless a provider is configured (base.py).
if EMAIL_BACKEND == "anymail.backends.test.EmailBackend":  # noqa: F405
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = BASE_DIR / "sent_mail"
