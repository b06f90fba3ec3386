"""Rate-limit counters for databases without an atomic cache (the embedded default)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RateLimitCounter(models.Model):
    """Fixed-window hit counter, incremented with one atomic upsert."""

    key = models.CharField(_("key"), max_length=150)
    window = models.BigIntegerField(_("window start (epoch seconds)"))
    count = models.PositiveIntegerField(_("hits"), default=0)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="wj_ratelimit_key_window"),
        ]
        indexes = [models.Index(fields=["window"], name="wj_ratelimit_window")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window}: {self.count}"
