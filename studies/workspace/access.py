"""Who may use the workspace, and the small helpers every workspace view shares."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404

from .. import roles
from ..models import Study

PAGE_SIZE = 50


def _role_check(test, refusal: str):
    """Sign in first (redirect to the login page), then pass the role test (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            # One query for the user's groups, however many role checks the page makes.
            prefetch_related_objects([request.user], "groups")
            if not test(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


workspace_required = _role_check(roles.is_researcher, "The workspace needs the researcher role.")
importer_required = _role_check(
    roles.is_researcher, "Importing references needs the researcher role."
)
curator_required = _role_check(roles.is_curator, "Reviewing needs the curator role.")


def editable_study(request, pk: int) -> Study:
    """The study, if the user may see it (else 404) and edit it (else 403)."""
    study = get_object_or_404(Study.objects.visible_to(request.user), pk=pk)
    if not roles.can_edit_study(request.user, study):
        raise PermissionDenied("Only its author (while a draft or returned) or a curator may edit.")
    return study


def add_errors(form, exc: ValidationError) -> None:
    """A service's validation error on the form: on its field when the form has one."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    for field, messages_ in errors.items():
        form.add_error(field if field in form.fields else None, messages_)
