from rest_framework import permissions

from studies.roles import CONVENING_ORGANISER, has_role


class OrganiserWritesPermission(permissions.BasePermission):
    """Anyone reads convenings (they are public); only convening organisers (and staff) write."""

    message = "Recording convenings needs the convening organiser role."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_role(
            request.user, CONVENING_ORGANISER
        )
