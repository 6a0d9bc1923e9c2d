"""Writes to convenings: people and organizations without duplicates, sessions, findings."""

from collections import Counter
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from frameworks.models import Element
from frameworks.services import upsert_row

from .models import Convening, Finding, Organization, Person, Presenter, Session


def person_get_or_create(*, name: str) -> Person:
    """The person with this name (matched by slug, so spacing and case don't duplicate them)."""
    name = " ".join(name.split())
    person, _ = Person.objects.get_or_create(slug=slugify(name)[:200], defaults={"name": name})
    return person


def organization_get_or_create(*, name: str) -> Organization | None:
    """The organization with this name, matched by slug; None for an empty name."""
    name = " ".join((name or "").split())
    if not name:
        return None
    organization, _ = Organization.objects.get_or_create(
        slug=slugify(name)[:200], defaults={"name": name}
    )
    return organization


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
                session = upsert_row(
                    Session,
                    lookup={"convening": convening, "order": sess["order"]},
                    values={
                        "kind": sess["kind"],
                        "title": sess["title"],
                        "summary": sess.get("summary") or "",
                        "media_links": sess.get("media_links") or [],
                    },
                    counts=counts,
                )
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
