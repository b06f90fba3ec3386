"""Tags ignore case (issue 9, item 23): "VIP" and "vip" are one tag for every writer and rule."""

import pytest
from taggit.models import Tag

from tests.segment_helpers import group, make_segment, r
from wagtail_journey import record
from wagtail_journey.models import Contact, ScoringRule, Touchpoint
from wagtail_journey.segments import segment_queryset
from wagtail_journey.tags import add_tags, remove_tags

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_leaves_taggit_case_sensitive(settings):
    """The package must not depend on the site's TAGGIT_CASE_INSENSITIVE."""
    settings.TAGGIT_CASE_INSENSITIVE = False


def test_vip_and_vip_in_other_case_are_one_tag():
    ana = Contact.objects.create(email="ana@example.com")
    bob = Contact.objects.create(email="bob@example.com")
    assert add_tags(ana, "VIP") == ["VIP"]
    assert add_tags(ana, "vip", " Vip ") == []  # already tagged: nothing new, nothing recorded
    assert add_tags(bob, "vip") == ["VIP"]  # the stored spelling
    assert Tag.objects.filter(name__iexact="vip").count() == 1
    assert list(ana.tags.names()) == ["VIP"]
    assert Touchpoint.objects.filter(kind="tag_added", contact=ana).count() == 1
    assert Touchpoint.objects.get(kind="tag_added", contact=bob).properties["tag"] == "VIP"

    assert remove_tags(ana, "vIp") == ["VIP"]
    assert not ana.tags.exists()
    assert Touchpoint.objects.get(kind="tag_removed", contact=ana).properties["tag"] == "VIP"


def test_taggits_own_operations_on_contacts_ignore_case_too():
    """The admin's tag field calls tags.set(); code may call tags.add() directly."""
    ana = Contact.objects.create(email="ana@example.com")
    ana.tags.add("Newsletter")
    ana.tags.add("newsletter", "NEWSLETTER")
    assert list(ana.tags.names()) == ["Newsletter"]
    ana.tags.set(["NEWSLETTER", "Webinar"])
    assert sorted(ana.tags.names()) == ["Newsletter", "Webinar"]
    ana.tags.remove("newsletter")
    assert list(ana.tags.names()) == ["Webinar"]
    assert Tag.objects.filter(name__iexact="newsletter").count() == 1


def test_segment_rule_matches_a_tag_in_any_case():
    ana = Contact.objects.create(email="ana@example.com")
    bob = Contact.objects.create(email="bob@example.com")
    add_tags(ana, "VIP")
    add_tags(bob, "newsletter")
    for spelling in ("VIP", "vip", " Vip"):
        segment = make_segment(f"tagged {spelling}", group(r("tag", tag=spelling)))
        assert list(segment_queryset(segment)) == [ana]
        not_vip = make_segment(f"not {spelling}", group(r("tag", tag=spelling, negate=True)))
        assert list(segment_queryset(not_vip)) == [bob]


def test_scoring_rule_tag_joins_the_existing_tag():
    ana = Contact.objects.create(email="ana@example.com")
    add_tags(ana, "vip")
    ScoringRule.objects.create(name="buyers", kind="order_completed", points=10, add_tag="VIP")
    record("order_completed", contact=ana, properties={"order_id": "1"})
    assert list(ana.tags.names()) == ["vip"]
    assert Touchpoint.objects.filter(kind="tag_added", contact=ana).count() == 1
