"""Reads of convenings that carry logic: what each page shows in a bounded number of queries,
findings for an element, open questions for the gap report, and simple search."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from frameworks.models import Element
from studies.models import Study

from .constants import Audience, FindingKind
from .models import Convening, Finding, Organization, Person, Presenter, Session

# Newest convening first; within one, convening-wide findings, then session by session; report
# findings (no convening) last, grouped by their source.
FINDING_ORDER = (
    F("convening__date").desc(nulls_last=True),
    F("convening_id").asc(nulls_last=True),
    "source",
    F("session__order").asc(nulls_first=True),
    "order",
    "id",
)
AUDIENCE_ORDER = {value: i for i, value in enumerate(Audience.values)}


def _presenters() -> Prefetch:
    return Prefetch(
        "presenters",
        queryset=Presenter.objects.select_related("person", "organization").order_by("order", "id"),
    )


def _published_studies() -> Prefetch:
    # A linked study that is not (or no longer) published is not shown to anyone.
    return Prefetch(
        "studies",
        queryset=Study.objects.published().only("pk", "title", "year").order_by("-year", "title"),
    )


def findings_with_links(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """Findings with their session, convening, elements and published studies, in page order."""
    return (
        findings.select_related("session__convening", "convening", "source_study")
        .prefetch_related("elements", _published_studies())
        .order_by(*FINDING_ORDER)
    )


# --- Pages ---------------------------------------------------------------------------------------


def convenings_newest_first() -> QuerySet[Convening]:
    """Every convening, newest first, with how many sessions it had."""
    return Convening.objects.annotate(session_count=Count("sessions")).order_by(
        F("date").desc(nulls_last=True), "-created_at"
    )


def convening_with_agenda(slug: str) -> Convening:
    """One convening with its agenda in order (sessions, presenters, finding counts) and its
    convening-wide findings (404 if unknown)."""
    sessions = (
        Session.objects.annotate(finding_count=Count("findings"))
        .prefetch_related(_presenters())
        .order_by("order")
    )
    return get_object_or_404(
        Convening.objects.prefetch_related(
            Prefetch("sessions", queryset=sessions, to_attr="agenda"),
            Prefetch(
                "findings",
                queryset=findings_with_links(Finding.objects.filter(session__isnull=True)),
                to_attr="general_findings",
            ),
        ),
        slug=slug,
    )


def session_with_findings(*, slug: str, pk: int) -> Session:
    """One session with its convening, presenters and findings with their links (404 if unknown)."""
    return get_object_or_404(
        Session.objects.select_related("convening").prefetch_related(
            _presenters(),
            Prefetch(
                "findings",
                queryset=findings_with_links(Finding.objects.all()),
                to_attr="findings_in_order",
            ),
        ),
        convening__slug=slug,
        pk=pk,
    )


def session_neighbours(session: Session) -> tuple[Session | None, Session | None]:
    """The sessions before and after this one in its convening's agenda."""
    siblings = Session.objects.filter(convening_id=session.convening_id).only(
        "pk", "title", "order", "convening_id"
    )
    before = siblings.filter(order__lt=session.order).order_by("-order").first()
    after = siblings.filter(order__gt=session.order).order_by("order").first()
    return before, after


def _presentations(**filters) -> QuerySet[Presenter]:
    return (
        Presenter.objects.filter(**filters)
        .select_related("session__convening", "person", "organization")
        .order_by(
            F("session__convening__date").desc(nulls_last=True),
            "session__convening_id",
            "session__order",
            "order",
        )
    )


def person_presentations(person: Person) -> QuerySet[Presenter]:
    """A person's sessions across convenings, with their title and organization at the time."""
    return _presentations(person=person)


def organization_presentations(organization: Organization) -> QuerySet[Presenter]:
    """The sessions an organization's people presented, across convenings."""
    return _presentations(organization=organization)


def report_sources() -> list[dict]:
    """The reports (not sessions) findings come from, with how many findings each gives."""
    return list(
        Finding.objects.filter(convening__isnull=True)
        .exclude(source="")
        .values("source")
        .annotate(count=Count("id"))
        .order_by("source")
    )


@dataclass
class AudienceGroup:
    audience: str
    label: str
    findings: list[Finding] = field(default_factory=list)


@dataclass
class FindingGroup:
    """The findings of one source (a convening or a report), by audience."""

    heading: str
    url: str
    audiences: list[AudienceGroup] = field(default_factory=list)


def findings_grouped(findings: Iterable[Finding]) -> list[FindingGroup]:
    """Group findings (already in FINDING_ORDER) by source, then by audience in a fixed order."""
    groups: list[FindingGroup] = []
    by_audience: dict[str, AudienceGroup] = {}
    for finding in findings:
        if finding.convening_id:
            heading, url = finding.convening.title, finding.convening.get_absolute_url()
        else:
            heading, url = finding.source, ""
        if not groups or groups[-1].heading != heading:
            groups.append(FindingGroup(heading=heading, url=url))
            by_audience = {}
        if finding.audience not in by_audience:
            label = finding.get_audience_display() if finding.audience else "Everyone"
            by_audience[finding.audience] = AudienceGroup(audience=finding.audience, label=label)
        by_audience[finding.audience].findings.append(finding)
        groups[-1].audiences = sorted(
            by_audience.values(), key=lambda g: AUDIENCE_ORDER.get(g.audience, len(AUDIENCE_ORDER))
        )
    return groups


# --- For other apps: element pages, the gap report, search ---------------------------------------


def findings_for_element(element: Element) -> QuerySet[Finding]:
    """The findings linked to an element, with their session and convening, newest first."""
    return findings_with_links(Finding.objects.filter(elements=element))


def open_questions_for_element(element: Element) -> QuerySet[Finding]:
    """The open questions convenings and reports raised about an element."""
    return findings_for_element(element).filter(kind=FindingKind.OPEN_QUESTION)


def open_questions_by_element(elements: Iterable[Element]) -> dict[int, list[Finding]]:
    """Open questions for many elements at once (four queries, however many), by element id."""
    element_ids = [e.pk for e in elements]
    through = Finding.elements.through
    links = through.objects.filter(
        element_id__in=element_ids, finding__kind=FindingKind.OPEN_QUESTION
    ).values_list("element_id", "finding_id")
    pairs = list(links)
    findings = {
        f.pk: f for f in findings_with_links(Finding.objects.filter(pk__in={pk for _, pk in pairs}))
    }
    result: dict[int, list[Finding]] = {pk: [] for pk in element_ids}
    ordered = list(findings)
    rank = {pk: i for i, pk in enumerate(ordered)}
    for element_id, finding_id in sorted(pairs, key=lambda pair: rank[pair[1]]):
        result[element_id].append(findings[finding_id])
    return result


def _words(query: str) -> list[str]:
    return query.split()[:10]


def search_findings(query: str) -> QuerySet[Finding]:
    """Findings whose text, quote, attribution or source contain every word (icontains; the
    search issue replaces this with full-text search)."""
    words = _words(query)
    if not words:
        return Finding.objects.none()
    findings = Finding.objects.all()
    for word in words:
        findings = findings.filter(
            Q(text__icontains=word)
            | Q(quote__icontains=word)
            | Q(attribution__icontains=word)
            | Q(source__icontains=word)
        )
    return findings_with_links(findings)


def search_sessions(query: str) -> QuerySet[Session]:
    """Sessions whose title, summary, presenters or their organizations contain every word."""
    words = _words(query)
    if not words:
        return Session.objects.none()
    sessions = Session.objects.all()
    for word in words:
        # Through a subquery, so matching several presenters never duplicates a session.
        matching = Session.objects.filter(
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(presenters__person__name__icontains=word)
            | Q(presenters__organization__name__icontains=word)
        ).values("pk")
        sessions = sessions.filter(pk__in=matching)
    return (
        sessions.select_related("convening")
        .prefetch_related(_presenters())
        .order_by(F("convening__date").desc(nulls_last=True), "convening_id", "order")
    )


def convenings_backup(*, study_key) -> dict:
    """Every convening with its sessions, presenters and findings, and every report's findings,
    in the seed file's shape (so the seed loader restores them); studies go by ``study_key``."""
    findings = Finding.objects.prefetch_related("elements", "studies").select_related(
        "source_study"
    )

    def finding_record(finding: Finding) -> dict:
        return {
            "kind": finding.kind,
            "text": finding.text,
            "audience": finding.audience or None,
            "quote": finding.quote,
            "attribution": finding.attribution,
            "elements": sorted(element.code for element in finding.elements.all()),
            "study_refs": sorted(study_key(study) for study in finding.studies.all()),
        }

    convenings = Convening.objects.order_by("pk").prefetch_related(
        Prefetch("sessions", queryset=Session.objects.order_by("order", "pk")),
        Prefetch("sessions__presenters", queryset=_presenters().queryset),
        Prefetch("sessions__findings", queryset=findings.order_by("order", "pk")),
        Prefetch(
            "findings",
            queryset=findings.filter(session__isnull=True).order_by("order", "pk"),
            to_attr="own_findings",
        ),
    )
    data: dict = {"convenings": [], "reports": []}
    for convening in convenings:
        data["convenings"].append(
            {
                "slug": convening.slug,
                "title": convening.title,
                "date": convening.date.isoformat() if convening.date else None,
                "date_text": convening.date_text,
                "host": convening.host,
                "context": convening.context,
                "sponsor": convening.sponsor,
                "attendance_text": convening.attendance,
                "researchers_count": convening.researchers_count,
                "others_count": convening.others_count,
                "goals": convening.goals,
                "summary": convening.summary,
                "findings": [finding_record(f) for f in convening.own_findings],
                "sessions": [
                    {
                        "order": session.order,
                        "kind": session.kind,
                        "title": session.title,
                        "summary": session.summary,
                        "media_links": session.media_links,
                        "presenters": [
                            {
                                "name": presenter.person.name,
                                "organization": presenter.organization.name
                                if presenter.organization
                                else None,
                                "title": presenter.title,
                                "summary": presenter.summary,
                            }
                            for presenter in session.presenters.all()
                        ],
                        "findings": [finding_record(f) for f in session.findings.all()],
                    }
                    for session in convening.sessions.all()
                ],
            }
        )
    reports: dict[str, dict] = {}
    for finding in findings.filter(convening__isnull=True, session__isnull=True).order_by(
        "source", "order", "pk"
    ):
        report = reports.setdefault(
            finding.source,
            {"source": finding.source, "study_ref": None, "findings": []},
        )
        if finding.source_study:
            report["study_ref"] = study_key(finding.source_study)
        report["findings"].append(finding_record(finding))
    data["reports"] = list(reports.values())
    return data
