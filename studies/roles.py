"""The role names, as Django groups (created by migration). Staff users are admins."""

RESEARCHER = "researcher"
CURATOR = "curator"
CONVENING_ORGANISER = "convening organiser"
ALL = (RESEARCHER, CURATOR, CONVENING_ORGANISER)


def has_role(user, role: str) -> bool:
    """Whether the user holds the role (staff hold every role)."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return any(group.name == role for group in user.groups.all())
