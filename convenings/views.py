"""Convening pages (public) and the organiser's forms (login and the organiser role).

Views parse, call one selector or service, and render; the services write.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from studies.roles import CONVENING_ORGANISER, has_role

from . import selectors, services
from .filters import ConveningFilterSet, FindingFilterSet
from .forms import ConveningForm, FindingForm, MoveForm, PresenterForm, SessionForm
from .models import Convening, Finding, Organization, Person, Presenter, Session

FINDINGS_PER_PAGE = 100


def can_organise(user) -> bool:
    return has_role(user, CONVENING_ORGANISER)


def organiser_required(view):
    """Sign in first (redirect to the login page), then hold the organiser role (else 403)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_organise(request.user):
            raise PermissionDenied("Recording convenings needs the convening organiser role.")
        return view(request, *args, **kwargs)

    return wrapper


# --- Public pages ------------------------------------------------------------------------------


def convening_list(request):
    convening_filter = ConveningFilterSet(request.GET, queryset=selectors.convenings_newest_first())
    convenings = convening_filter.qs if convening_filter.is_valid() else Convening.objects.none()
    return render(
        request,
        "convenings/list.html",
        {
            "convenings": convenings,
            "reports": selectors.report_sources(),
            "can_organise": can_organise(request.user),
        },
    )


def convening_detail(request, slug: str):
    return render(
        request,
        "convenings/detail.html",
        {
            "convening": selectors.convening_with_agenda(slug),
            "can_organise": can_organise(request.user),
        },
    )


def session_detail(request, slug: str, pk: int):
    session = selectors.session_with_findings(slug=slug, pk=pk)
    before, after = selectors.session_neighbours(session)
    return render(
        request,
        "convenings/session.html",
        {
            "session": session,
            "before": before,
            "after": after,
            "can_organise": can_organise(request.user),
        },
    )


def person_detail(request, slug: str):
    person = get_object_or_404(Person, slug=slug)
    return render(
        request,
        "convenings/person.html",
        {
            "subject": person,
            "kind": "person",
            "presentations": selectors.person_presentations(person),
        },
    )


def organization_detail(request, slug: str):
    organization = get_object_or_404(Organization, slug=slug)
    return render(
        request,
        "convenings/person.html",
        {
            "subject": organization,
            "kind": "organization",
            "presentations": selectors.organization_presentations(organization),
        },
    )


def finding_list(request):
    """Findings, recommendations and open questions from convenings and reports, filtered
    (e.g. ?source=RAND&kind=recommendation) and grouped by source, then by audience."""
    queryset = selectors.findings_with_links(Finding.objects.all())
    finding_filter = FindingFilterSet(request.GET, queryset=queryset)
    findings = finding_filter.qs if finding_filter.is_valid() else queryset.none()
    page = Paginator(findings, FINDINGS_PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "convenings/findings.html",
        {
            "filter": finding_filter,
            "page": page,
            "groups": selectors.findings_grouped(page.object_list),
            "reports": selectors.report_sources(),
            "query": params.urlencode(),
            "can_organise": can_organise(request.user),
        },
    )


# --- The organiser's forms ----------------------------------------------------------------------


def _form_page(request, form, *, heading: str, cancel: str, extra: dict | None = None):
    return render(
        request,
        "convenings/form.html",
        {"form": form, "heading": heading, "cancel": cancel, **(extra or {})},
    )


def _stale(form, exc: services.StaleVersion) -> None:
    form.add_error(
        None,
        f"Someone else saved a change while you were editing (it is now version "
        f"{exc.current_version}). Your text is below: copy what you need and reload the page.",
    )


def _version(form) -> int | None:
    return form.cleaned_data.get("version")


@organiser_required
def convening_create(request):
    form = ConveningForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            convening = services.convening_create(data=form.convening_data(), user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Convening recorded. Now add its sessions.")
            return redirect(convening)
    return _form_page(
        request, form, heading="Record a convening", cancel=reverse("convenings:list")
    )


@organiser_required
def convening_edit(request, slug: str):
    convening = get_object_or_404(Convening, slug=slug)
    form = ConveningForm(
        request.POST or None, instance=convening, initial={"version": convening.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.convening_update(
                convening=Convening.objects.get(pk=convening.pk),
                data=form.convening_data(),
                user=request.user,
                expected_version=_version(form),
            )
        except services.StaleVersion as exc:
            _stale(form, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Convening saved.")
            return redirect(convening)
    return _form_page(
        request, form, heading=f"Edit {convening.title}", cancel=convening.get_absolute_url()
    )


@organiser_required
def session_create(request, slug: str):
    convening = get_object_or_404(Convening, slug=slug)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_add(
                convening=convening, data=form.session_data(), user=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Session added at the end of the agenda.")
            return redirect(session)
    return _form_page(
        request,
        form,
        heading=f"Add a session to {convening.title}",
        cancel=convening.get_absolute_url(),
    )


def _session(slug: str, pk: int) -> Session:
    return get_object_or_404(
        Session.objects.select_related("convening"), convening__slug=slug, pk=pk
    )


@organiser_required
def session_edit(request, slug: str, pk: int):
    session = _session(slug, pk)
    form = SessionForm(request.POST or None, instance=session, initial={"version": session.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(
                session=_session(slug, pk),
                data=form.session_data(),
                user=request.user,
                expected_version=_version(form),
            )
        except services.StaleVersion as exc:
            _stale(form, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Session saved.")
            return redirect(session)
    return _form_page(
        request, form, heading=f"Edit {session.title}", cancel=session.get_absolute_url()
    )


@require_POST
@organiser_required
def session_move(request, slug: str, pk: int):
    session = _session(slug, pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        services.session_move(
            session=session, direction=form.cleaned_data["direction"], user=request.user
        )
        messages.success(request, f"Moved “{session.title}” {form.cleaned_data['direction']}.")
    return redirect(f"{session.convening.get_absolute_url()}#session-{session.pk}")


@organiser_required
def presenter_create(request, slug: str, pk: int):
    session = _session(slug, pk)
    form = PresenterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            presenter = services.presenter_add(
                session=session, **form.cleaned_data, user=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{presenter.person.name} added.")
            return redirect(session)
    return _form_page(
        request,
        form,
        heading=f"Add a presenter to {session.title}",
        cancel=session.get_absolute_url(),
        extra={"organizations": Organization.objects.values_list("name", flat=True)},
    )


@require_POST
@organiser_required
def presenter_remove(request, slug: str, pk: int, presenter_pk: int):
    session = _session(slug, pk)
    presenter = get_object_or_404(
        Presenter.objects.select_related("person"), session=session, pk=presenter_pk
    )
    services.presenter_remove(presenter=presenter, user=request.user)
    messages.success(request, f"{presenter.person.name} removed from this session.")
    return redirect(session)


@organiser_required
def finding_create(request, slug: str, pk: int):
    session = _session(slug, pk)
    form = FindingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.finding_add(session=session, **form.finding_data(), user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Finding added.")
            return redirect(session)
    return _form_page(
        request,
        form,
        heading=f"Add a finding to {session.title}",
        cancel=session.get_absolute_url(),
    )


def _finding_home(finding: Finding) -> str:
    if finding.session_id:
        return finding.session.get_absolute_url()
    if finding.convening_id:
        return finding.convening.get_absolute_url()
    return reverse("convenings:findings")


@organiser_required
def finding_edit(request, pk: int):
    finding = get_object_or_404(
        Finding.objects.select_related("session__convening", "convening"), pk=pk
    )
    initial = {
        "version": finding.version,
        "kind": finding.kind,
        "audience": finding.audience,
        "text": finding.text,
        "quote": finding.quote,
        "attribution": finding.attribution,
        "elements": list(finding.elements.all()),
        "studies": list(finding.studies.all()),
    }
    form = FindingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.finding_update(
                finding=finding,
                data=form.finding_data(),
                user=request.user,
                expected_version=_version(form),
            )
        except services.StaleVersion as exc:
            _stale(form, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Finding saved.")
            return redirect(_finding_home(finding))
    return _form_page(
        request, form, heading="Edit a finding and its links", cancel=_finding_home(finding)
    )
