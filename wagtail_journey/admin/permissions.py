"""Permission helpers shared by the admin listings."""

from wagtail_modeladmin.helpers import PermissionHelper


class ReadOnlyPermissionHelper(PermissionHelper):
    """For logs (touchpoints, submissions): viewable with the model's view or
    change permission, never created or edited by hand (the log is the truth).
    Deleting is left to erasure, not to the listing."""

    def user_can_list(self, user) -> bool:
        return self.user_has_specific_permission(user, "view") or self.user_has_specific_permission(
            user, "change"
        )

    def user_can_inspect_obj(self, user, obj) -> bool:
        return self.user_can_list(user)

    def user_can_create(self, user) -> bool:
        return False

    def user_can_edit_obj(self, user, obj) -> bool:
        return False

    def user_can_delete_obj(self, user, obj) -> bool:
        return False
