"""Landing blocks as editors fill them in: optional nested blocks really are optional."""

import pytest
from wagtail import blocks

from wagtail_journey.blocks import CallToActionBlock, HeroBlock, landing_blocks
from wagtail_journey.blocks.optional import OptionalStructBlock

pytestmark = pytest.mark.django_db


def admin_post(block, value, prefix="b"):
    """What the Wagtail editor posts for ``value``: the form data, read back as the admin does."""
    data = {}

    def flatten(child, val, key):
        if isinstance(child, blocks.StructBlock):
            for name, grandchild in child.child_blocks.items():
                flatten(grandchild, val.get(name), f"{key}-{name}")
        elif isinstance(child, blocks.ChooserBlock):
            data[key] = "" if val is None else str(val.pk)
        else:
            data[key] = "" if val is None else str(val)

    flatten(block, value, prefix)
    return block.value_from_datadict(data, {}, prefix)


def test_a_hero_without_a_call_to_action_validates_as_stored_and_as_the_editor_posts_it():
    block = HeroBlock()
    stored = block.to_python({"heading": "The guide", "text": "Twelve pages."})  # the demo's hero
    assert block.clean(stored)["heading"] == "The guide"
    # Re-published unchanged from the editor: an empty label, no page, no URL, default style.
    posted = admin_post(block, stored)
    assert posted["cta"]["label"] == "" and posted["cta"]["style"] == "primary"
    cleaned = block.clean(posted)
    assert cleaned["cta"]["label"] == ""


def test_a_blank_call_to_action_renders_nothing():
    block = HeroBlock()
    html = block.render(block.to_python({"heading": "The guide"}))
    assert '<h1 class="wj-hero__title">The guide</h1>' in html
    assert "<a " not in html and "wj-cta" not in html


@pytest.mark.parametrize(
    ("cta", "field", "message"),
    [
        ({"label": "Read more"}, "page", "Choose a page or enter a URL."),
        ({"url": "https://example.com/"}, "label", "This field is required."),
        ({"label": "Go", "url": "https://example.com/", "style": "secondary"}, None, None),
    ],
)
def test_a_started_call_to_action_is_validated_in_full(cta, field, message):
    block = HeroBlock()
    value = block.to_python({"heading": "H", "cta": cta})
    if field is None:
        assert block.clean(value)["cta"]["style"] == "secondary"
        return
    with pytest.raises(blocks.StructBlockValidationError) as caught:
        block.clean(value)
    cta_errors = caught.value.block_errors["cta"].block_errors
    assert [str(m) for e in cta_errors[field].error_list for m in e.messages] == [message]


def test_the_call_to_action_block_on_its_own_is_required():
    block = CallToActionBlock()
    with pytest.raises(blocks.StructBlockValidationError):
        block.clean(block.to_python({}))


def nested_struct_and_list_children(block, path=""):
    """Every StructBlock/ListBlock inside ``block``, with its path."""
    for name, child in getattr(block, "child_blocks", {}).items():
        here = f"{path}.{name}"
        if isinstance(child, (blocks.StructBlock, blocks.ListBlock)):
            yield here, child
        if isinstance(child, blocks.ListBlock):
            yield from nested_struct_and_list_children(child.child_block, here + "[]")
        else:
            yield from nested_struct_and_list_children(child, here)


#: Nested blocks a landing block needs, and why; every other nested block must be optional.
REQUIRED_WITH_REASON = {
    "features.features": "a feature list lists at least one feature",
    "form.fields": "a form needs fields (an email at least)",
}


def test_every_nested_block_is_optional_unless_it_has_a_reason():
    found = {}
    for name, block in landing_blocks():
        for path, child in nested_struct_and_list_children(block, name):
            found[path] = child
    assert "hero.cta" in found and "form.consents" in found  # the walk finds them
    for path, child in found.items():
        if path in REQUIRED_WITH_REASON:
            continue
        if isinstance(child, blocks.ListBlock):
            assert not child.meta.min_num, f"{path} requires items"
            assert list(child.clean(child.to_python([]))) == [], path
        else:
            assert isinstance(child, OptionalStructBlock) and not child.required, path
            assert child.clean(child.to_python({})) is not None, path


@pytest.fixture
def image(settings, tmp_path):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    settings.MEDIA_ROOT = tmp_path
    return Image.objects.create(title="Team", file=get_test_image_file())


@pytest.mark.parametrize("position", ["left", "right"])
def test_image_with_text_and_a_hero_image_render_with_the_stylesheet_classes(image, position):
    from wagtail_journey.blocks import ImageTextBlock

    block = ImageTextBlock()
    value = block.to_python({"image": image.pk, "text": "<p>Hi</p>", "image_position": position})
    html = block.render(value)
    assert f'class="wj-image-text wj-image-text--{position}"' in html
    assert 'class="wj-image-text__image"' in html and 'alt=""' in html
    assert '<div class="wj-image-text__text wj-rich-text"><p>Hi</p></div>' in html

    hero = HeroBlock()
    html = hero.render(hero.to_python({"heading": "H", "image": image.pk}))
    assert 'class="wj-hero wj-hero--image"' in html
    assert '<div class="wj-hero__media"><img' in html and 'class="wj-hero__image"' in html


def test_a_testimonial_shows_its_photo_name_and_role(image):
    from wagtail_journey.blocks import TestimonialBlock

    block = TestimonialBlock()
    html = block.render(
        block.to_python({"quote": "Great", "name": "Inês", "role": "CTO", "image": image.pk})
    )
    assert '<blockquote class="wj-testimonial__quote"><p>Great</p></blockquote>' in html
    assert 'class="wj-testimonial__photo"' in html
    assert '<span class="wj-testimonial__name">Inês</span>' in html
    assert '<span class="wj-testimonial__role">CTO</span>' in html


def test_the_optional_call_to_action_keeps_its_frozen_definition():
    """Migrations freeze ``required=False`` on the hero's button: unchanged, no new migration."""
    cta = HeroBlock().child_blocks["cta"]
    assert cta.deconstruct()[2] == {"label": "Call to action", "required": False}
    assert CallToActionBlock().deconstruct()[2] == {}
