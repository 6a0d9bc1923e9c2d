"""Writes to convenings: people and organizations without duplicates, the organiser's edits
(convenings, sessions and their order, presenters, findings and their links), and the seed loader.

Pages and the API call the same functions; each owns its transaction, validates with full_clean()
and leaves an audit row (django-simple-history) naming the user and what was done.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import Max
from django.utils.text import slugify

from frameworks.models import Element
from frameworks.services import upsert_row
from studies.constants import ReviewStatus
from studies.models import Study
from studies.services import StaleVersion

from .models import Convening, Finding, Organization, Person, Presenter, Session

# Path segments under /convenings/ that are pages, so no convening may take them as its slug.
RESERVED_SLUGS = frozenset({"new", "people", "organizations", "findings", "reports"})
CONVENING_FIELDS = frozenset(
    {
        "title",
        "date",
        "date_text",
        "host",
        "context",
        "sponsor",
        "attendance",
        "researchers_count",
        "others_count",
        "goals",
        "summary",
    }
)
SESSION_FIELDS = frozenset({"kind", "title", "summary", "media_links"})
FINDING_FIELDS = frozenset(
    {"kind", "audience", "text", "quote", "attribution", "elements", "studies"}
)


# --- People and organizations: one row per name, however it is spaced or capitalised ----------


def _normal_name(name: str | None) -> str:
    return " ".join((name or "").split())


def _name_slug(name: str) -> str:
    """The de-duplication key of a name: its slug, or a stable hash when nothing is left of it
    (a name in a non-Latin script slugifies to an empty string)."""
    slug = slugify(name)[:200]
    return slug or "n-" + hashlib.sha1(name.casefold().encode()).hexdigest()[:16]


def person_get_or_create(*, name: str) -> Person:
    """The person with this name (matched by slug, so spacing and case don't duplicate them)."""
    name = _normal_name(name)
    if not name:
        raise ValidationError({"name": ["Give the presenter’s name."]})
    person, _ = Person.objects.get_or_create(slug=_name_slug(name), defaults={"name": name})
    return person


def organization_get_or_create(*, name: str | None) -> Organization | None:
    """The organization with this name, matched by slug; None for an empty name."""
    name = _normal_name(name)
    if not name:
        return None
    organization, _ = Organization.objects.get_or_create(
        slug=_name_slug(name), defaults={"name": name}
    )
    return organization


# --- Shared helpers ----------------------------------------------------------------------------


def _stamp(obj: models.Model, *, user, reason: str) -> None:
    """Tell simple-history who did this and why (the middleware covers requests; this covers
    every other caller, such as scripts and the shell)."""
    if user is not None and user.is_authenticated:
        obj._history_user = user  # type: ignore[attr-defined]
    obj._change_reason = reason[:100]  # type: ignore[attr-defined]


def _check_version(model: type[models.Model], pk: int, expected: int | None) -> None:
    """Compare-and-set guard: lock the row and refuse if its version moved on."""
    current = model.objects.select_for_update().values_list("version", flat=True).get(pk=pk)
    if expected is not None and expected != current:
        raise StaleVersion(current)


def _only(data: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = set(data) - allowed
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    return data


def _next_order(queryset: models.QuerySet) -> int:
    return (queryset.aggregate(top=Max("order"))["top"] or 0) + 1


def media_links_clean(links: Any) -> list[dict[str, str]]:
    """Media links as stored: a list of {"label", "url"} with http(s) URLs."""
    if links in (None, ""):
        return []
    if not isinstance(links, list):
        raise ValidationError({"media_links": ["Give a list of links."]})
    check_url = URLValidator(schemes=["http", "https"])
    cleaned = []
    for link in links:
        if isinstance(link, str):
            link = {"url": link}
        if not isinstance(link, dict):
            raise ValidationError({"media_links": ["Each link needs a URL."]})
        url = str(link.get("url") or "").strip()
        label = _normal_name(str(link.get("label") or ""))[:200] or url
        try:
            check_url(url)
        except ValidationError as exc:
            raise ValidationError({"media_links": [f"“{url}” is not a web address."]}) from exc
        cleaned.append({"label": label, "url": url})
    return cleaned


# --- Convenings -------------------------------------------------------------------------------


def _free_slug(title: str) -> str:
    base = slugify(title)[:180] or "convening"
    if base in RESERVED_SLUGS:
        base = f"{base}-convening"
    slug, n = base, 1
    while Convening.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def convening_create(*, data: dict[str, Any], slug: str = "", user=None) -> Convening:
    """Record a new convening; its slug comes from the title unless one is given."""
    data = _only(dict(data), CONVENING_FIELDS)
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": [f"“{slug}” is reserved for a page; choose another."]})
    with transaction.atomic():
        convening = Convening(**data, slug=slug or _free_slug(data.get("title", "")))
        convening.full_clean()
        _stamp(convening, user=user, reason="Convening created")
        convening.save()
    return convening


def convening_update(
    *, convening: Convening, data: dict[str, Any], user=None, expected_version: int | None = None
) -> Convening:
    """Edit a convening's facts with optimistic concurrency (StaleVersion if it moved on)."""
    data = _only(dict(data), CONVENING_FIELDS)
    with transaction.atomic():
        _check_version(Convening, convening.pk, expected_version)
        for name, value in data.items():
            setattr(convening, name, value)
        convening.full_clean()
        convening.version += 1
        _stamp(convening, user=user, reason="Convening edited")
        convening.save()
    return convening


def convening_delete(*, convening: Convening, user=None) -> None:
    """Delete a convening with its sessions, presenters and findings (people stay)."""
    with transaction.atomic():
        _stamp(convening, user=user, reason="Convening deleted")
        convening.delete()


# --- Sessions and their order -----------------------------------------------------------------


def session_add(*, convening: Convening, data: dict[str, Any], user=None) -> Session:
    """Add a session at the end of a convening's agenda."""
    data = _only(dict(data), SESSION_FIELDS)
    data["media_links"] = media_links_clean(data.get("media_links"))
    with transaction.atomic():
        # Lock the convening so two organisers adding at once get different slots.
        Convening.objects.select_for_update().filter(pk=convening.pk).exists()
        session = Session(convening=convening, order=_next_order(convening.sessions.all()), **data)
        session.full_clean()
        _stamp(session, user=user, reason="Session added")
        session.save()
    return session


def session_update(
    *, session: Session, data: dict[str, Any], user=None, expected_version: int | None = None
) -> Session:
    """Edit a session's kind, title, summary or media links (not its place in the agenda)."""
    data = _only(dict(data), SESSION_FIELDS)
    if "media_links" in data:
        data["media_links"] = media_links_clean(data["media_links"])
    with transaction.atomic():
        _check_version(Session, session.pk, expected_version)
        for name, value in data.items():
            setattr(session, name, value)
        session.full_clean()
        session.version += 1
        _stamp(session, user=user, reason="Session edited")
        session.save()
    return session


def session_delete(*, session: Session, user=None) -> None:
    """Remove a session with its presenters and findings; the others keep their order."""
    with transaction.atomic():
        _stamp(session, user=user, reason="Session deleted")
        session.delete()


def session_move(*, session: Session, direction: Literal["up", "down"], user=None) -> Session:
    """Swap a session with its neighbour in the agenda; at either end it stays where it is."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": ["Move a session “up” or “down”."]})
    with transaction.atomic():
        agenda = list(
            Session.objects.select_for_update()
            .filter(convening_id=session.convening_id)
            .order_by("order")
        )
        index = next(i for i, s in enumerate(agenda) if s.pk == session.pk)
        other_index = index - 1 if direction == "up" else index + 1
        if not 0 <= other_index < len(agenda):
            return agenda[index]
        this, other = agenda[index], agenda[other_index]
        # The unique (convening, order) constraint is checked row by row, so park one session
        # on a free slot first (without an audit row: only the two real moves are history).
        Session.objects.filter(pk=this.pk).update(order=agenda[-1].order + 1)
        this.order, other.order = other.order, this.order
        opposite = "down" if direction == "up" else "up"
        for moved, way in ((other, opposite), (this, direction)):
            moved.version += 1
            _stamp(moved, user=user, reason=f"Session moved {way}")
            moved.save(update_fields=["order", "version"])
    return this


# --- Presenters -------------------------------------------------------------------------------


def presenter_add(
    *,
    session: Session,
    name: str,
    title: str = "",
    organization: str = "",
    summary: str = "",
    user=None,
) -> Presenter:
    """Add a presenter to a session, reusing the person and organization when already known."""
    with transaction.atomic():
        Session.objects.select_for_update().filter(pk=session.pk).exists()
        person = person_get_or_create(name=name)
        if Presenter.objects.filter(session=session, person=person).exists():
            raise ValidationError({"name": [f"{person.name} already presents in this session."]})
        presenter = Presenter(
            session=session,
            person=person,
            organization=organization_get_or_create(name=organization),
            title=_normal_name(title),
            summary=summary.strip(),
            order=_next_order(session.presenters.all()),
        )
        presenter.full_clean()
        _stamp(presenter, user=user, reason="Presenter added")
        presenter.save()
    return presenter


def presenter_remove(*, presenter: Presenter, user=None) -> None:
    """Take a presenter off a session (the person stays, with their other sessions)."""
    with transaction.atomic():
        _stamp(presenter, user=user, reason="Presenter removed")
        presenter.delete()


# --- Findings and their links to elements and studies ----------------------------------------


def _check_studies_published(finding: Finding | None, studies: Iterable[Study]) -> None:
    """Newly linked studies must be published (one retracted later may stay linked)."""
    already = set(finding.studies.values_list("pk", flat=True)) if finding and finding.pk else set()
    hidden = [s for s in studies if s.pk not in already and s.status != ReviewStatus.PUBLISHED]
    if hidden:
        raise ValidationError({"studies": ["Link published studies only."]})


def _check_quote(finding: Finding) -> None:
    if finding.quote and not finding.attribution:
        raise ValidationError({"attribution": ["Say who said the quoted words."]})


def _set_links(finding: Finding, *, elements=None, studies=None) -> None:
    # Only touch a relation that changes: each change is an audit row of its own.
    if elements is not None and set(finding.elements.all()) != set(elements):
        finding.elements.set(elements)
    if studies is not None and set(finding.studies.all()) != set(studies):
        finding.studies.set(studies)


def finding_add(
    *,
    kind: str,
    text: str,
    session: Session | None = None,
    convening: Convening | None = None,
    source: str = "",
    audience: str = "",
    quote: str = "",
    attribution: str = "",
    elements: Iterable[Element] = (),
    studies: Iterable[Study] = (),
    user=None,
) -> Finding:
    """Record what a session (or a convening, or a report) found, recommended or left open,
    linked to framework elements and studies."""
    elements, studies = list(elements), list(studies)
    if session is None and convening is None and not _normal_name(source):
        raise ValidationError("Say where it came from: a session, a convening or a report.")
    if session is not None:
        if convening is not None and convening.pk != session.convening_id:
            raise ValidationError({"session": ["This session belongs to another convening."]})
        convening = session.convening
    with transaction.atomic():
        siblings = Finding.objects.filter(session=session, convening=convening)
        if session is None and convening is None:
            siblings = siblings.filter(source=_normal_name(source))
        finding = Finding(
            session=session,
            convening=convening,
            source=_normal_name(source),
            kind=kind,
            audience=audience or "",
            text=text.strip(),
            quote=quote.strip(),
            attribution=_normal_name(attribution),
            order=_next_order(siblings),
        )
        finding.full_clean()
        _check_quote(finding)
        _check_studies_published(None, studies)
        _stamp(finding, user=user, reason="Finding added")
        finding.save()
        _set_links(finding, elements=elements, studies=studies)
    return finding


def finding_update(
    *, finding: Finding, data: dict[str, Any], user=None, expected_version: int | None = None
) -> Finding:
    """Edit a finding's wording, kind, audience or links, with optimistic concurrency."""
    data = _only(dict(data), FINDING_FIELDS)
    elements = data.pop("elements", None)
    studies = data.pop("studies", None)
    with transaction.atomic():
        _check_version(Finding, finding.pk, expected_version)
        for name, value in data.items():
            setattr(finding, name, value if value is not None else "")
        finding.full_clean()
        _check_quote(finding)
        if studies is not None:
            _check_studies_published(finding, studies)
        finding.version += 1
        _stamp(finding, user=user, reason="Finding edited")
        finding.save()
        _set_links(finding, elements=elements, studies=studies)
    return finding


def finding_delete(*, finding: Finding, user=None) -> None:
    """Delete a finding (its audit rows keep what it said)."""
    with transaction.atomic():
        _stamp(finding, user=user, reason="Finding deleted")
        finding.delete()


# --- Seed data ----------------------------------------------------------------------------------


def _finding_links(finding: Finding, data: dict[str, Any], elements: dict, studies: dict) -> None:
    wanted_elements = {elements[code] for code in data.get("elements", [])}
    if set(finding.elements.all()) != wanted_elements:
        finding.elements.set(wanted_elements)
    wanted_studies = {studies[key] for key in data.get("study_refs", []) if key in studies}
    if set(finding.studies.all()) != wanted_studies:
        finding.studies.set(wanted_studies)


def _finding_upsert(
    *, data: dict, order: int, counts: Counter, elements: dict, studies: dict, **owner
) -> None:
    finding = upsert_row(
        Finding,
        lookup={**owner, "order": order},
        values={
            "kind": data["kind"],
            "audience": data.get("audience") or "",
            "text": data["text"],
            "quote": data.get("quote") or "",
            "attribution": data.get("attribution") or "",
        },
        counts=counts,
    )
    _finding_links(finding, data, elements, studies)


def _seed_session(convening: Convening, data: dict[str, Any], counts: Counter) -> Session:
    """A seed session, found by its title: organisers may reorder the agenda, and a rerun must
    neither undo that nor pour one session's presenters and findings into another."""
    values = {
        "kind": data["kind"],
        "summary": data.get("summary") or "",
        "media_links": data.get("media_links") or [],
    }
    existing = Session.objects.filter(convening=convening, title=data["title"]).first()
    if existing is None:
        taken = convening.sessions.filter(order=data["order"]).exists()
        values["order"] = _next_order(convening.sessions.all()) if taken else data["order"]
    lookup = {"pk": existing.pk} if existing else {"convening": convening, "title": data["title"]}
    return upsert_row(Session, lookup=lookup, values=values, counts=counts)


def seed_convenings_load(*, data: dict[str, Any], studies_by_key: dict, counts: Counter) -> None:
    """Upsert the seed convenings with sessions, presenters and findings, and report findings."""
    elements = {e.code: e for e in Element.objects.current()}
    with transaction.atomic():
        for conv in data.get("convenings", []):
            convening = upsert_row(
                Convening,
                lookup={"slug": conv["slug"]},
                values={
                    "title": conv["title"],
                    "date": conv.get("date"),
                    "date_text": conv.get("date_text") or "",
                    "host": conv.get("host") or "",
                    "context": conv.get("context") or "",
                    "sponsor": conv.get("sponsor") or "",
                    "attendance": conv.get("attendance_text") or "",
                    "researchers_count": conv.get("researchers_count"),
                    "others_count": conv.get("others_count"),
                    "goals": conv.get("goals") or "",
                    "summary": conv.get("summary") or "",
                },
                counts=counts,
            )
            for sess in conv.get("sessions", []):
                session = _seed_session(convening, sess, counts)
                for order, pres in enumerate(sess.get("presenters", []), start=1):
                    upsert_row(
                        Presenter,
                        lookup={
                            "session": session,
                            "person": person_get_or_create(name=pres["name"]),
                        },
                        values={
                            "organization": organization_get_or_create(
                                name=pres.get("organization")
                            ),
                            "title": pres.get("title") or "",
                            "summary": pres.get("summary") or "",
                            "order": order,
                        },
                        counts=counts,
                    )
                for order, finding in enumerate(sess.get("findings", []), start=1):
                    _finding_upsert(
                        data=finding,
                        order=order,
                        counts=counts,
                        elements=elements,
                        studies=studies_by_key,
                        convening=convening,
                        session=session,
                    )
            # Findings of the convening as a whole (a backup has them; the seed file does not).
            for order, finding in enumerate(conv.get("findings", []), start=1):
                _finding_upsert(
                    data=finding,
                    order=order,
                    counts=counts,
                    elements=elements,
                    studies=studies_by_key,
                    convening=convening,
                    session=None,
                )
        for report in data.get("reports", []):
            for order, finding in enumerate(report.get("findings", []), start=1):
                _finding_upsert(
                    data=finding,
                    order=order,
                    counts=counts,
                    elements=elements,
                    studies=studies_by_key,
                    convening=None,
                    session=None,
                    source=report["source"],
                )
            source_study = studies_by_key.get(report.get("study_ref"))
            if source_study:
                Finding.objects.filter(source=report["source"]).exclude(
                    source_study=source_study
                ).update(source_study=source_study)
