"""Contacts as editors work with them in the admin: the listing's pages and
counts (:mod:`.paging`), a contact's timeline (:mod:`.timeline`) and changes
to many contacts at once (:mod:`.bulk`). The admin views in
``wagtail_journey.admin`` call these functions; so do the tests."""
