"""Writes to the literature: studies, their effects and tags."""

from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from evidence.stats.effect_sizes import (
    EffectSizeError,
    compute,
    g_from_percentile_points,
    improvement_index,
)
from frameworks.models import Element, Facet
from frameworks.services import upsert_row

from .constants import ACHIEVEMENT_DOMAINS, ReviewStatus
from .identifiers import normalize_doi, normalize_title
from .models import (
    EFFECT_COMPUTED_FIELDS,
    STUDY_CITATION_AND_DESIGN_FIELDS,
    STUDY_QUALITY_FIELDS,
    EffectSize,
    GradeBand,
    Population,
    Setting,
    Study,
    StudyTag,
    Subject,
)

VOCABULARY_FIELDS = {
    "grade_bands": GradeBand,
    "populations": Population,
    "subjects": Subject,
    "settings": Setting,
}


def study_find_duplicate(
    *, doi: str | None, title: str, year: int, exclude_pk=None
) -> Study | None:
    """The existing study with the same natural key: normalised DOI, else normalised title + year."""
    candidates = Study.objects.all()
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    doi = normalize_doi(doi)
    if doi:
        match = candidates.filter(doi=doi).first()
        if match:
            return match
    return candidates.filter(title_key=normalize_title(title)[:500], year=year).first()


def effect_compute_fields(effect: EffectSize) -> None:
    """Fill an effect's computed fields (g, variance, CI, p, direction...) from what was reported.

    Raises EffectSizeError naming the reported field at fault.
    """
    if _is_point_estimate_only(effect):
        return _fill_point_estimate(effect)
    result = compute(
        effect.input_kind,
        dict(effect.reported),
        higher_is_better=effect.higher_is_better,
        reported_p=effect.reported_p,
        clustered=effect.clustered,
        icc=effect.icc,
        m=effect.cluster_size,
        outcome_is_achievement=effect.outcome_domain in ACHIEVEMENT_DOMAINS,
    )
    effect.g = result.g
    effect.variance = result.variance
    effect.ci_low = result.ci_low
    effect.ci_high = result.ci_high
    effect.p_value = result.p_value
    effect.significant = result.significant
    effect.direction = result.direction
    effect.improvement_index = result.improvement_index
    effect.conversion = result.conversion
    effect.conversion_version = result.conversion_version


def _is_point_estimate_only(effect: EffectSize) -> bool:
    # Reports such as RAND's give an improvement index with a significance verdict but no group
    # sizes: g is known, its variance is not, so it is shown but cannot be pooled.
    reported = effect.reported or {}
    return (
        effect.input_kind == "percentile_points"
        and reported.get("n_t") is None
        and reported.get("n_c") is None
        and effect.reported_significant is not None
    )


def _fill_point_estimate(effect: EffectSize) -> None:
    g = g_from_percentile_points(effect.reported.get("points"))
    if not effect.higher_is_better:
        g = -g
    effect.g, effect.variance, effect.ci_low, effect.ci_high = g, None, None, None
    effect.p_value = effect.reported_p
    effect.significant = effect.reported_significant
    effect.direction = ("favorable" if g > 0 else "unfavorable") if effect.significant else "null"
    effect.improvement_index = improvement_index(g)
    effect.conversion = "percentile_points_probit_no_variance"
    effect.conversion_version = 1


def vocabularies_ensure(*, counts: Counter) -> None:
    """Make sure every controlled-vocabulary term of studies.constants exists (as the migration does)."""
    from . import constants

    terms = {
        GradeBand: constants.GRADE_BANDS,
        Population: constants.POPULATIONS,
        Subject: constants.SUBJECTS,
        Setting: constants.SETTINGS,
    }
    for model, rows in terms.items():
        for order, (code, label) in enumerate(rows, start=1):
            upsert_row(
                model, lookup={"code": code}, values={"label": label, "order": order}, counts=counts
            )


def seed_studies_load(*, records: list[dict[str, Any]], counts: Counter) -> dict[str, Study]:
    """Upsert the seed studies as published, with their tags and effects; returns them by seed key."""
    elements = {e.code: e for e in Element.objects.current()}
    facets = {
        (f.element.code, f.code): f
        for f in Facet.objects.filter(element__in=elements.values()).select_related("element")
    }
    vocab = {
        field: {t.code: t for t in model.objects.all()}
        for field, model in VOCABULARY_FIELDS.items()
    }
    by_key: dict[str, Study] = {}
    with transaction.atomic():
        for record in records:
            study = _seed_study(record, counts)
            for field, terms in vocab.items():
                wanted = {terms[code] for code in record.get(field, [])}
                current = set(getattr(study, field).all())
                if wanted != current:
                    getattr(study, field).set(wanted)
            for tag in record.get("tags", []):
                facet = facets.get((tag["element"], tag.get("facet"))) if tag.get("facet") else None
                upsert_row(
                    StudyTag,
                    lookup={"study": study, "element": elements[tag["element"]], "facet": facet},
                    values={"relevance": tag.get("relevance", "primary")},
                    counts=counts,
                )
            for effect in record.get("effects", []):
                _seed_effect(study, effect, vocab["populations"], counts)
            by_key[record["key"]] = study
        from evidence.gaps.facts import gap_facts_refresh

        gap_facts_refresh(study_ids=[study.pk for study in by_key.values()])
    return by_key


def _seed_study(record: dict[str, Any], counts: Counter) -> Study:
    existing = study_find_duplicate(
        doi=record.get("doi"), title=record["title"], year=record["year"]
    )
    values = {
        "title": record["title"],
        "authors": record.get("authors", []),
        "year": record["year"],
        "venue": record.get("venue") or "",
        "volume": record.get("volume") or "",
        "issue": record.get("issue") or "",
        "pages": record.get("pages") or "",
        "doi": normalize_doi(record.get("doi")),
        "url": record.get("url") or "",
        "abstract": record.get("abstract") or "",
        "publication_type": record.get("publication_type") or "other",
        "design": record.get("design") or "not_yet_coded",
        "sample_size": record.get("sample_size"),
        "sample_unit": record.get("sample_unit") or "",
        "n_sites": record.get("n_sites"),
        "country": record.get("country") or "",
        "source_note": f"Seed: {record.get('source_document', '')}".strip(),
        "status": ReviewStatus.PUBLISHED,
    }
    lookup = {"pk": existing.pk} if existing else {"title": record["title"], "year": record["year"]}
    study = upsert_row(Study, lookup=lookup, values=values, counts=counts)
    if study.published_at is None:
        Study.objects.filter(pk=study.pk).update(published_at=timezone.now())
    return study


def _seed_effect(study: Study, data: dict[str, Any], populations: dict, counts: Counter) -> None:
    effect = EffectSize(
        study=study,
        outcome_domain=data["outcome_domain"],
        measure=data.get("measure", ""),
        population=populations.get(data.get("population")) if data.get("population") else None,
        subgroup=data.get("subgroup", ""),
        input_kind=data["input"],
        reported={k: v for k, v in data.get("values", {}).items() if v is not None},
        reported_significant=data.get("significant_reported"),
        higher_is_better=data.get("higher_is_better", True),
        notes=data.get("note", ""),
    )
    try:
        effect_compute_fields(effect)
    except EffectSizeError as exc:
        # Not enough was reported to convert (e.g. no group sizes): keep what was reported,
        # visible as not yet computed, and say why.
        effect.notes = f"{effect.notes}\nNot computed: {exc}".strip()
    upsert_row(
        EffectSize,
        lookup={
            "study": study,
            "outcome_domain": effect.outcome_domain,
            "measure": effect.measure,
            "population": effect.population,
            "subgroup": effect.subgroup,
        },
        values={
            name: getattr(effect, name)
            for name in [
                "input_kind",
                "reported",
                "reported_significant",
                "higher_is_better",
                "notes",
                *EFFECT_COMPUTED_FIELDS,
            ]
        },
        counts=counts,
    )


# --- Editing: every write of published data marks the affected elements dirty -----------------


class StaleVersion(Exception):
    """The record changed since the editor loaded it: refuse rather than overwrite."""

    def __init__(self, current_version: int):
        super().__init__(
            f"This record was changed by someone else (now version {current_version})."
        )
        self.current_version = current_version


class InvalidTransition(Exception):
    """A review action that the study's current status does not allow."""


def _element_ids_of(study_id: int) -> set[int]:
    return set(StudyTag.objects.filter(study_id=study_id).values_list("element_id", flat=True))


def _after_change(
    study: Study, *, element_ids: set[int] | None = None, was_published: bool = False
) -> None:
    """Refresh the study's tier and gap report facts; if it is or was public, mark its elements
    for recompute."""
    from evidence.gaps.facts import gap_facts_refresh
    from evidence.services import elements_mark_dirty, study_tiers_refresh

    study_tiers_refresh(study_ids=[study.pk])
    gap_facts_refresh(study_ids=[study.pk])
    # The status is read from the database: an in-memory study (e.g. cached on an effect) may be stale.
    status = Study.objects.filter(pk=study.pk).values_list("status", flat=True).first()
    if was_published or status == ReviewStatus.PUBLISHED:
        elements_mark_dirty(element_ids=(element_ids or set()) | _element_ids_of(study.pk))


def _check_version(model, pk: int, expected: int | None) -> None:
    """Compare-and-set guard: lock the row and refuse if its version moved on."""
    current = model.objects.select_for_update().values_list("version", flat=True).get(pk=pk)
    if expected is not None and expected != current:
        raise StaleVersion(current)


class DuplicateStudy(Exception):
    """Another study already has this DOI (or title and year)."""

    def __init__(self, existing: Study):
        super().__init__(
            f"A study with this DOI or title and year already exists (id {existing.pk})."
        )
        self.existing = existing


def study_create(*, data: dict[str, Any], user=None) -> Study:
    """Create a draft study owned by its author; refuses a duplicate of an existing study."""
    m2m = {field: data.pop(field) for field in list(data) if field in VOCABULARY_FIELDS}
    duplicate = study_find_duplicate(doi=data.get("doi"), title=data["title"], year=data["year"])
    if duplicate:
        raise DuplicateStudy(duplicate)
    author = user if user and user.is_authenticated else None
    with transaction.atomic():
        study = Study(**data, status=ReviewStatus.DRAFT, created_by=author, updated_by=author)
        study.full_clean()
        study.save()
        for field, terms in m2m.items():
            getattr(study, field).set(terms)
        _after_change(study)
    return study


def study_delete(*, study: Study, user=None) -> None:
    """Delete a study; if it was published, its elements are recomputed without it."""
    with transaction.atomic():
        element_ids = _element_ids_of(study.pk)
        was_published = study.status == ReviewStatus.PUBLISHED
        study.delete()
        if was_published:
            from evidence.services import elements_mark_dirty

            elements_mark_dirty(element_ids=element_ids)


def study_update(
    *, study: Study, data: dict[str, Any], user=None, expected_version: int | None = None
) -> Study:
    """Edit a study's fields (and vocabularies) with optimistic concurrency."""
    m2m = {field: data.pop(field) for field in list(data) if field in VOCABULARY_FIELDS}
    if "doi" in data or "title" in data or "year" in data:
        duplicate = study_find_duplicate(
            doi=data.get("doi", study.doi),
            title=data.get("title", study.title),
            year=data.get("year", study.year),
            exclude_pk=study.pk,
        )
        if duplicate:
            raise DuplicateStudy(duplicate)
    with transaction.atomic():
        _check_version(Study, study.pk, expected_version)
        for name, value in data.items():
            setattr(study, name, value)
        study.full_clean(exclude=["created_by", "updated_by"])
        study.version += 1
        study.updated_by = user if user and user.is_authenticated else None
        study.save()
        for field, terms in m2m.items():
            getattr(study, field).set(terms)
        _after_change(study)
    return study


def study_transition(*, study: Study, action: str, user=None, comment: str = "") -> Study:
    """Apply a review action (submit, publish, return, retract) if the status allows it."""
    allowed = {
        "submit": ({ReviewStatus.DRAFT, ReviewStatus.RETURNED}, ReviewStatus.SUBMITTED),
        "publish": ({ReviewStatus.SUBMITTED, ReviewStatus.RETRACTED}, ReviewStatus.PUBLISHED),
        "return": ({ReviewStatus.SUBMITTED}, ReviewStatus.RETURNED),
        "retract": ({ReviewStatus.PUBLISHED}, ReviewStatus.RETRACTED),
    }
    sources, target = allowed[action]
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.status not in sources:
            raise InvalidTransition(
                f"Cannot {action} a study that is {study.get_status_display().lower()}."
            )
        was_published = study.status == ReviewStatus.PUBLISHED
        study.status = target
        if comment:
            study.review_comment = comment
        if target == ReviewStatus.PUBLISHED:
            study.published_at = timezone.now()
        study.version += 1
        study.updated_by = user if user and user.is_authenticated else None
        study.save()
        _after_change(study, was_published=was_published)
    return study


def effect_save(
    *, effect: EffectSize, user=None, expected_version: int | None = None
) -> EffectSize:
    """Create or edit an effect: convert what was reported to g, store it, mark elements dirty.

    Raises EffectSizeError (naming the field) when the reported statistics cannot be converted.
    """
    effect_compute_fields(effect)
    with transaction.atomic():
        if effect.pk:
            _check_version(EffectSize, effect.pk, expected_version)
            effect.version += 1
        effect.full_clean()
        effect.save()
        _after_change(effect.study)
    return effect


def effect_delete(*, effect: EffectSize, user=None) -> None:
    with transaction.atomic():
        study = effect.study
        effect.delete()
        _after_change(study)


def tag_add(
    *,
    study: Study,
    element: Element,
    facet: Facet | None = None,
    relevance: str = "primary",
    user=None,
) -> StudyTag:
    """Tag a study to an element (or one of its facets)."""
    with transaction.atomic():
        tag = StudyTag(
            study=study,
            element=element,
            facet=facet,
            relevance=relevance,
            tagged_by=user if user and user.is_authenticated else None,
        )
        tag.full_clean()
        tag.save()
        _after_change(study)
    return tag


def tag_remove(*, tag: StudyTag, user=None) -> None:
    with transaction.atomic():
        study, element_id = tag.study, tag.element_id
        tag.delete()
        _after_change(study, element_ids={element_id})


def study_tags_add(
    *,
    study: Study,
    chosen: list[tuple[Element, Facet | None]],
    relevance: str = "primary",
    user=None,
) -> int:
    """Tag a study to the chosen elements and facets through tag_add, all or nothing; tags it
    already carries are left as they are. Returns how many tags were added."""
    with transaction.atomic():
        existing = set(study.tags.values_list("element_id", "facet_id"))
        added = 0
        for element, facet in chosen:
            if (element.pk, facet.pk if facet else None) not in existing:
                tag_add(study=study, element=element, facet=facet, relevance=relevance, user=user)
                added += 1
    return added


# --- Workspace: merging duplicates, bulk tagging, backup restore ------------------------------


class InvalidMerge(Exception):
    """Two studies that cannot be merged (e.g. a study with itself)."""


def study_merge(*, keep: Study, remove: Study, user=None) -> Study:
    """Merge a duplicate study into the one kept: effects and tags move over (tags the kept study
    already has are dropped), links from other records follow, history stays, the duplicate goes."""
    if keep.pk == remove.pk:
        raise InvalidMerge("A study cannot be merged with itself.")
    with transaction.atomic():
        locked = Study.objects.select_for_update().in_bulk([keep.pk, remove.pk])
        if len(locked) < 2:
            raise InvalidMerge("One of the studies no longer exists (merged or deleted meanwhile).")
        keep, remove = locked[keep.pk], locked[remove.pk]
        was_published = remove.status == ReviewStatus.PUBLISHED
        moved_elements = _element_ids_of(remove.pk)
        reason = f"Moved from study {remove.pk} by a merge"
        for effect in EffectSize.objects.filter(study=remove):
            # Saved one by one (not update()) so each move lands in the effect's own history.
            effect.study, effect._change_reason = keep, reason
            effect.version += 1
            effect.save()
        kept = set(StudyTag.objects.filter(study=keep).values_list("element_id", "facet_id"))
        for tag in StudyTag.objects.filter(study=remove):
            if (tag.element_id, tag.facet_id) not in kept:
                tag.study, tag._change_reason = keep, reason
                tag.save()
        _relink_references(keep=keep, remove=remove)
        removed_pk, removed_label = remove.pk, str(remove)
        remove._change_reason = f"Merged into study {keep.pk}"
        remove.delete()  # its historical rows stay, ending with this deletion and its reason
        keep.version += 1
        keep.updated_by = user if user and user.is_authenticated else None
        keep._change_reason = f"Merged study {removed_pk} ({removed_label}) into this one"[:100]
        keep.save()
        _after_change(keep, element_ids=moved_elements, was_published=was_published)
    return keep


def _relink_references(*, keep: Study, remove: Study) -> None:
    """Point other records' links to the removed study (findings, highlights...) at the kept one.

    Found through the model's relations, so a new link added elsewhere is not silently dropped;
    each record is saved so its own history shows the change.
    """
    for relation in Study._meta.get_fields(include_hidden=True):
        model = relation.related_model
        if (
            not relation.auto_created
            or relation.concrete
            or model in (EffectSize, StudyTag)
            or model._meta.auto_created  # m2m through tables: handled from the m2m side
            or hasattr(model, "instance_type")  # simple-history tables keep the old id
        ):
            continue
        name = relation.field.name
        for obj in model._default_manager.filter(**{name: remove}).distinct():
            if relation.many_to_many:
                getattr(obj, name).remove(remove)
                getattr(obj, name).add(keep)
            else:
                setattr(obj, name, keep)
                obj.save(update_fields=[name])


def study_tags_bulk_add(
    *,
    studies: list[Study],
    element: Element,
    facet: Facet | None = None,
    relevance: str = "primary",
    user=None,
) -> tuple[list[Study], list[Study]]:
    """Tag many studies to one element (or facet) through tag_add, all or nothing.

    Returns (tagged, skipped): studies already carrying that tag are skipped.
    """
    with transaction.atomic():
        already = set(
            StudyTag.objects.filter(study__in=studies, element=element, facet=facet).values_list(
                "study_id", flat=True
            )
        )
        tagged, skipped = [], []
        for study in studies:
            if study.pk in already:
                skipped.append(study)
                continue
            tag_add(study=study, element=element, facet=facet, relevance=relevance, user=user)
            tagged.append(study)
    return tagged, skipped


BACKUP_FORMAT = "evidence-base-studies"
BACKUP_VERSION = 1
# What a backup keeps of each row; users go by username, vocabularies, elements and facets by code.
STUDY_BACKUP_FIELDS = (
    *STUDY_CITATION_AND_DESIGN_FIELDS,
    *STUDY_QUALITY_FIELDS,
    "essa_tier",
    "essa_reason",
    "status",
    "review_comment",
    "source_note",
    "is_synthetic",
    "published_at",
    "version",
)
EFFECT_BACKUP_FIELDS = (
    "outcome_domain",
    "measure",
    "subgroup",
    "input_kind",
    "reported",
    "reported_p",
    "reported_significant",
    "higher_is_better",
    "clustered",
    "icc",
    "cluster_size",
    *EFFECT_COMPUTED_FIELDS,
    "notes",
    "version",
)


def study_backup_key(study: Study) -> str:
    """How a backup names a study that other records link to: its DOI, else its title and year."""
    if study.doi:
        return f"doi:{study.doi}"
    return f"title:{normalize_title(study.title)[:500]}:{study.year}"


def _studies_by_backup_key(keys: set[str]) -> dict[str, Study]:
    dois = [key[4:] for key in keys if key.startswith("doi:")]
    titles = [key[6:].rsplit(":", 1)[0] for key in keys if key.startswith("title:")]
    found = Study.objects.filter(Q(doi__in=dois) | Q(title_key__in=titles))
    return {key: study for study in found if (key := study_backup_key(study)) in keys}


def _convenings_backup_restore(data: dict[str, Any], counts: Counter) -> None:
    """Convenings (with sessions, presenters, findings) and report findings not yet present,
    through the seed loader, whose file shape the backup shares."""
    from convenings.models import Convening, Finding
    from convenings.services import seed_convenings_load

    taken = set(Convening.objects.values_list("slug", flat=True))
    sources = set(Finding.objects.exclude(source="").values_list("source", flat=True))
    convenings = [c for c in data.get("convenings", []) if c["slug"] not in taken]
    reports = [r for r in data.get("reports", []) if r["source"] not in sources]
    for what, skipped in (
        ("convenings", len(data.get("convenings", [])) - len(convenings)),
        ("reports", len(data.get("reports", [])) - len(reports)),
    ):
        if skipped:
            counts[f"{what} skipped (already present)"] += skipped
    findings = [
        finding
        for convening in convenings
        for finding in convening.get("findings", [])
        + [f for session in convening.get("sessions", []) for f in session.get("findings", [])]
    ] + [finding for report in reports for finding in report.get("findings", [])]
    keys = {key for finding in findings for key in finding.get("study_refs", [])}
    keys |= {report["study_ref"] for report in reports if report.get("study_ref")}
    studies = _studies_by_backup_key(keys)
    missing = keys - studies.keys()
    if missing:
        raise KeyError(f"findings link studies that are not there: {', '.join(sorted(missing))}")
    seed_convenings_load(
        data={"convenings": convenings, "reports": reports}, studies_by_key=studies, counts=counts
    )


class BackupError(Exception):
    """A backup file that cannot be restored (wrong format, unknown element...)."""


def studies_backup_restore(*, data: dict[str, Any]) -> Counter:
    """Restore studies with their effects and tags, then convenings and findings, all or nothing.

    Studies whose natural key (normalised DOI, else title + year) already exists are skipped, so
    a restore into a populated database adds only what is missing.
    """
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.utils.dateparse import parse_datetime

    if data.get("format") != BACKUP_FORMAT or data.get("version") != BACKUP_VERSION:
        raise BackupError(f"Not a version {BACKUP_VERSION} {BACKUP_FORMAT} backup.")
    users = {u.username: u for u in get_user_model().objects.all()}
    elements = {
        (e.framework.slug, e.framework.version, e.code): e
        for e in Element.objects.select_related("framework")
    }
    facets = {(f.element_id, f.code): f for f in Facet.objects.all()}
    vocab = {field: {t.code: t for t in m.objects.all()} for field, m in VOCABULARY_FIELDS.items()}
    counts: Counter = Counter()
    published_elements: set[int] = set()
    restored: list[int] = []
    with transaction.atomic():
        for number, record in enumerate(data.get("studies", []), start=1):
            try:
                study = _restore_study(record, users, vocab, parse_datetime, counts)
                if study is None:
                    continue
                for item in record.get("effects", []):
                    _restore_effect(study, item, vocab["populations"], counts)
                for item in record.get("tags", []):
                    tag = _restore_tag(study, item, elements, facets, users, counts)
                    if study.status == ReviewStatus.PUBLISHED:
                        published_elements.add(tag.element_id)
                restored.append(study.pk)
            except (KeyError, ValidationError, TypeError, ValueError) as exc:
                raise BackupError(f"Study {number} ({record.get('title', '?')!r}): {exc}") from exc
        try:
            _convenings_backup_restore(data, counts)
        except (KeyError, ValidationError, TypeError, ValueError) as exc:
            raise BackupError(f"Convenings: {exc}") from exc
        from evidence.gaps.facts import gap_facts_refresh

        gap_facts_refresh(study_ids=restored)
        if published_elements:
            from evidence.services import elements_mark_dirty

            elements_mark_dirty(element_ids=published_elements)
    return counts


def _restore_study(record, users, vocab, parse_datetime, counts: Counter) -> Study | None:
    # A backup holds DOIs as the database did (already in their one spelling), so they are
    # matched as they are: a legacy DOI that is not well-formed must not stop the restore.
    doi = record.get("doi")
    if (doi and Study.objects.filter(doi=doi).exists()) or study_find_duplicate(
        doi=None, title=record["title"], year=record["year"]
    ):
        counts["studies skipped (already present)"] += 1
        return None
    values = {name: record[name] for name in STUDY_BACKUP_FIELDS if name in record}
    if values.get("published_at"):
        values["published_at"] = parse_datetime(values["published_at"])
    study = Study(
        **values,
        created_by=users.get(record.get("created_by")),
        updated_by=users.get(record.get("updated_by")),
    )
    # Field checks and database constraints, but not clean()'s stricter DOI shape (see above).
    study.clean_fields(exclude=["created_by", "updated_by"])
    study.validate_constraints()
    study.save()
    for field, terms in vocab.items():
        codes = record.get(field, [])
        unknown = [code for code in codes if code not in terms]
        if unknown:
            raise KeyError(f"unknown {field} {', '.join(unknown)}")
        getattr(study, field).set([terms[code] for code in codes])
    stamps = {
        name: parse_datetime(record[name])
        for name in ("created_at", "updated_at")
        if record.get(name)
    }
    if stamps:  # auto_now fields: only an update() can put the original times back
        Study.objects.filter(pk=study.pk).update(**stamps)
    counts["studies created"] += 1
    return study


def _restore_effect(study: Study, item, populations, counts: Counter) -> None:
    values = {name: item[name] for name in EFFECT_BACKUP_FIELDS if name in item}
    population = item.get("population")
    if population and population not in populations:
        raise KeyError(f"unknown population {population}")
    effect = EffectSize(study=study, population=populations.get(population), **values)
    effect.full_clean()
    effect.save()
    counts["effects created"] += 1


def _restore_tag(study: Study, item, elements, facets, users, counts: Counter) -> StudyTag:
    key = (item["framework"], item["framework_version"], item["element"])
    if key not in elements:
        raise KeyError(f"unknown element {'/'.join(key)} (load the framework first)")
    element = elements[key]
    facet = None
    if item.get("facet"):
        facet = facets.get((element.pk, item["facet"]))
        if facet is None:
            raise KeyError(f"unknown facet {item['facet']} of {element.code}")
    tag = StudyTag(
        study=study,
        element=element,
        facet=facet,
        relevance=item.get("relevance", "primary"),
        tagged_by=users.get(item.get("tagged_by")),
    )
    tag.full_clean()
    tag.save()
    counts["tags created"] += 1
    return tag
