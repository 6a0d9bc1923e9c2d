"""Writes to the taxonomy: loading a framework version from its data file."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

from django.db import models, transaction

from .models import Component, Element, Facet, Framework, Highlight, OpenQuestion

DATA_DIR = Path(__file__).resolve().parent / "data"


def upsert_row(
    model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any], counts: Counter
) -> models.Model:
    """Create the row, or update only the fields that differ, so a rerun writes nothing.

    Counts "created", "updated" or "unchanged" under the model's name in ``counts``.
    """
    label = model._meta.verbose_name_plural
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**{**lookup, **values})
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        counts[f"{label} created"] += 1
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        if hasattr(obj, "version"):
            obj.version += 1
            changed.append("version")
        obj.save(
            update_fields=changed
            + [f.name for f in model._meta.fields if getattr(f, "auto_now", False)]
        )
        counts[f"{label} updated"] += 1
    else:
        counts[f"{label} unchanged"] += 1
    return obj


def framework_load(*, data: dict[str, Any], counts: Counter) -> Framework:
    """Upsert a framework version with its components, elements, facets and open questions.

    Highlights name studies by seed key; they are linked by ``highlights_link`` once studies exist.
    """
    with transaction.atomic():
        framework = upsert_row(
            Framework,
            lookup={"slug": data["slug"], "version": data["version"]},
            values={
                "name": data["name"],
                "publisher": data.get("publisher", ""),
                "source": data.get("source", ""),
                "about": data.get("about", []),
                "is_current": True,
            },
            counts=counts,
        )
        Framework.objects.filter(slug=framework.slug).exclude(pk=framework.pk).update(
            is_current=False
        )
        for comp in data["components"]:
            quote = (comp.get("quotes") or [{}])[0]
            component = upsert_row(
                Component,
                lookup={"framework": framework, "code": comp["code"]},
                values={
                    "name": comp["name"],
                    "tagline": comp.get("tagline", ""),
                    "summary": comp.get("summary", ""),
                    "why_it_matters": comp.get("why_it_matters", ""),
                    "research_summary": comp.get("evidence_summary", ""),
                    "quote": quote.get("text", ""),
                    "quote_attribution": quote.get("attribution", ""),
                    "order": comp["order"],
                },
                counts=counts,
            )
            for el in comp["elements"]:
                element = upsert_row(
                    Element,
                    lookup={"framework": framework, "code": el["code"]},
                    values={
                        "component": component,
                        "title": el["title"],
                        "summary": el.get("summary", ""),
                        "order": el["order"],
                    },
                    counts=counts,
                )
                for facet in el.get("facets", []):
                    upsert_row(
                        Facet,
                        lookup={"element": element, "code": facet["code"]},
                        values={"name": facet["name"], "order": facet["order"]},
                        counts=counts,
                    )
            for order, text in enumerate(comp.get("open_questions", []), start=1):
                upsert_row(
                    OpenQuestion,
                    lookup={"component": component, "element": None, "order": order},
                    values={"text": text, "source": framework.source},
                    counts=counts,
                )
    return framework


def highlights_link(
    *, framework: Framework, data: dict[str, Any], studies_by_key: dict[str, Any], counts: Counter
) -> None:
    """Upsert each component's headline statistics and highlighted results with their studies."""
    with transaction.atomic():
        for comp in data["components"]:
            component = framework.components.get(code=comp["code"])
            rows = [
                {"statistic": h.get("statistic", ""), "text": h["text"], "ref": h.get("study_ref")}
                for h in comp.get("highlights", []) + comp.get("figures", [])
            ]
            for order, row in enumerate(rows, start=1):
                upsert_row(
                    Highlight,
                    lookup={"component": component, "order": order},
                    values={
                        "statistic": row["statistic"],
                        "text": row["text"],
                        "study": studies_by_key.get(row["ref"]),
                    },
                    counts=counts,
                )


def read_data_file(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)
