"""Model fields shared by several models."""

from __future__ import annotations

from django.db import models
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from wagtail.fields import StreamField


class LazyStreamField(StreamField):
    """A StreamField whose blocks come from ``block_factory`` (a dotted path).

    The blocks are built on first use, not when models load: models import
    nothing from block modules (which may import models), and the blocks are
    left out of migrations, so changing a block's options needs no migration.
    """

    block_factory: str = ""

    def __init__(self, *args, **kwargs):
        kwargs.pop("block_lookup", None)
        super().__init__(None, **kwargs)

    @cached_property
    def stream_block(self):
        block = import_string(self.block_factory)()
        block.set_meta_options(self.block_opts)
        return block

    def deconstruct(self):
        name, path, _args, kwargs = models.Field.deconstruct(self)
        return name, path, [], kwargs
