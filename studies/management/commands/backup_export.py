"""Write every study (effects, tags) and convening (sessions, presenters, findings) to a JSON file
keyed by natural keys."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db.models import Prefetch
from django.utils import timezone

from convenings.selectors import convenings_backup
from studies.models import EffectSize, Study, StudyTag
from studies.services import (
    BACKUP_FORMAT,
    BACKUP_VERSION,
    EFFECT_BACKUP_FIELDS,
    STUDY_BACKUP_FIELDS,
    VOCABULARY_FIELDS,
    study_backup_key,
)


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def study_record(study: Study) -> dict:
    """One study as a backup keeps it: fields, vocabulary codes, effects and tags, no database ids."""
    record = {name: _plain(getattr(study, name)) for name in STUDY_BACKUP_FIELDS}
    record["created_at"] = _plain(study.created_at)
    record["updated_at"] = _plain(study.updated_at)
    record["created_by"] = study.created_by.username if study.created_by else None
    record["updated_by"] = study.updated_by.username if study.updated_by else None
    for field in VOCABULARY_FIELDS:
        record[field] = [term.code for term in getattr(study, field).all()]
    record["effects"] = [
        {
            **{name: getattr(effect, name) for name in EFFECT_BACKUP_FIELDS},
            "population": effect.population.code if effect.population else None,
        }
        for effect in study.effects.all()
    ]
    record["tags"] = [
        {
            "framework": tag.element.framework.slug,
            "framework_version": tag.element.framework.version,
            "element": tag.element.code,
            "facet": tag.facet.code if tag.facet else None,
            "relevance": tag.relevance,
            "tagged_by": tag.tagged_by.username if tag.tagged_by else None,
        }
        for tag in study.tags.all()
    ]
    return record


class Command(BaseCommand):
    help = (
        "Back up all studies with their effects and tags, and all convenings with their sessions, "
        "presenters and findings, as JSON (restore with backup_import)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The JSON file to write.")

    def handle(self, *args, path: str, **options):
        studies = (
            Study.objects.order_by("pk")
            .select_related("created_by", "updated_by")
            .prefetch_related(
                *VOCABULARY_FIELDS,
                Prefetch(
                    "effects",
                    queryset=EffectSize.objects.select_related("population").order_by("pk"),
                ),
                Prefetch(
                    "tags",
                    queryset=StudyTag.objects.select_related(
                        "element__framework", "facet", "tagged_by"
                    ).order_by("pk"),
                ),
            )
        )
        header = {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "exported_at": timezone.now().isoformat(),
        }
        count = 0
        # Written record by record, so a large database is never held in memory as one document.
        with Path(path).open("w", encoding="utf-8") as out:
            out.write(json.dumps(header)[:-1] + ', "studies": [\n')
            for study in studies.iterator(chunk_size=500):
                out.write(",\n" if count else "")
                out.write(json.dumps(study_record(study), ensure_ascii=False))
                count += 1
            # Then convenings and report findings, in the seed file's shape; they link studies
            # by DOI or title and year, so the links survive new database ids.
            others = convenings_backup(study_key=study_backup_key)
            out.write("\n],\n")
            out.write(json.dumps(others, ensure_ascii=False)[1:-1])
            out.write("}\n")
        findings = sum(
            len(c["findings"]) + sum(len(s["findings"]) for s in c["sessions"])
            for c in others["convenings"]
        ) + sum(len(r["findings"]) for r in others["reports"])
        self.stdout.write(
            f"Wrote {count} stud{'y' if count == 1 else 'ies'}, "
            f"{len(others['convenings'])} convenings and {findings} findings to {path}."
        )
