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


def is_curator(user) -> bool:
    return has_role(user, CURATOR)


def is_researcher(user) -> bool:
    return has_role(user, RESEARCHER) or has_role(user, CURATOR)


def can_edit_study(user, study) -> bool:
    """Curators edit anything; researchers their own drafts and returned studies."""
    from .constants import ReviewStatus

    if is_curator(user):
        return True
    return (
        has_role(user, RESEARCHER)
        and study.created_by_id == user.pk
        and study.status in (ReviewStatus.DRAFT, ReviewStatus.RETURNED)
    )
