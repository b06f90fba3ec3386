"""Single-use links: the fingerprint of every used privacy token, so a replay is refused."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UsedPrivacyToken(models.Model):
    """A single-use link that has been used (privacy/tokens.py).

    Holds no personal data: ``digest`` is a SHA-256 of the token's random nonce,
    and rows older than the longest link lifetime are deleted as new ones come.
    The unique digest makes "use once" one INSERT: a replay, even at the same
    instant in another process, hits the constraint.
    """

    digest = models.CharField(_("token fingerprint"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16)
    used_at = models.DateTimeField(_("used"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("used privacy link")
        verbose_name_plural = _("used privacy links")

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:8]}"
