"""Struct blocks an editor may leave blank as a whole.

Wagtail's ``StructBlock`` has no notion of being optional: ``required=False`` on
it changes nothing, and its required children (a button's label, say) still
refuse a blank value. A hero whose call to action is optional could then not be
published without one, not even re-published unchanged. ``OptionalStructBlock``
accepts a value whose every child is blank (or still holds its default, like a
style choice) and validates it as usual as soon as the editor fills anything in.
"""

from __future__ import annotations

from wagtail import blocks
from wagtail.rich_text import RichText


def is_blank(block: blocks.Block, value) -> bool:
    """True when ``value`` holds nothing an editor typed or chose for ``block``."""
    if isinstance(value, blocks.StructValue):
        return all(is_blank(child, value.get(name)) for name, child in block.child_blocks.items())
    if value is None or value == "" or value is False:
        return True
    if isinstance(value, RichText):
        return not value.source.strip()
    if isinstance(value, (list, tuple, blocks.list_block.ListValue)) and not len(value):
        return True
    return value == block.get_default()


class OptionalStructBlock(blocks.StructBlock):
    """A ``StructBlock`` that is optional when declared with ``required=False``."""

    def __init__(self, local_blocks=None, required: bool = True, **kwargs):
        self._required = required
        if not required:
            # Kept in the block's definition (migrations), as Wagtail kept it before.
            kwargs["required"] = False
        super().__init__(local_blocks, **kwargs)

    @property
    def required(self) -> bool:
        return self._required

    def clean(self, value):
        if not self._required and is_blank(self, value):
            # Nothing filled in: keep the blank value (children's defaults) unvalidated.
            return value
        return super().clean(value)
