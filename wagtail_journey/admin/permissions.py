"""Permission helpers shared by the ModelAdmin listings.

Read access is any of the model's permissions, the *view* permission included
(named in full, ``app.view_model``; see :mod:`wagtail_journey.admin.guard`).
"""

from wagtail_modeladmin.helpers import PermissionHelper

from wagtail_journey.admin.guard import user_can_read


class JourneyPermissionHelper(PermissionHelper):
    """List and inspect with the view, add, change or delete permission of the model."""

    def user_can_list(self, user) -> bool:
        return user_can_read(user, self.model)

    def user_can_inspect_obj(self, user, obj) -> bool:
        return self.inspect_view_enabled and user_can_read(user, self.model)


class ReadOnlyPermissionHelper(JourneyPermissionHelper):
    """For logs (touchpoints, submissions): readable with any of the model's
    permissions, never created or edited by hand (the log is the truth).
    Deleting is left to erasure, not to the listing."""

    def user_can_create(self, user) -> bool:
        return False

    def user_can_edit_obj(self, user, obj) -> bool:
        return False

    def user_can_delete_obj(self, user, obj) -> bool:
        return False
