from rest_framework import permissions

from .. import roles

CURATOR_ACTIONS = {"publish", "return_", "retract"}
EDIT_ACTIONS = {"update", "partial_update", "destroy"}


class StudyPermission(permissions.BasePermission):
    """Public reads (visibility is in the queryset); researchers write their own drafts; curators all."""

    message = "You do not have permission to do this with this study."

    def has_permission(self, request, view) -> bool:
        if view.action == "history":
            # The audit trail names who changed what: for the people who enter and review
            # studies (researchers, curators), as in the workspace, not for every account.
            return roles.is_researcher(request.user)
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action == "create":
            return roles.is_researcher(request.user)
        if view.action in CURATOR_ACTIONS:
            return roles.is_curator(request.user)
        return roles.is_researcher(request.user)

    def has_object_permission(self, request, view, study) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if view.action in CURATOR_ACTIONS:
            return roles.is_curator(request.user)
        if view.action == "submit":
            return roles.is_curator(request.user) or study.created_by_id == request.user.pk
        return roles.can_edit_study(request.user, study)


class ChildOfStudyPermission(permissions.BasePermission):
    """Effects and tags: readable with their study, writable by whoever may edit the study."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or roles.is_researcher(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or roles.can_edit_study(
            request.user, obj.study
        )
