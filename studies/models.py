"""The literature: studies, their effect sizes and their tags to framework elements."""

import contextlib
import uuid

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .constants import (
    Attrition,
    BaselineEquivalence,
    Design,
    Direction,
    EffectInput,
    EssaTier,
    ImportBatchStatus,
    OutcomeDomain,
    PublicationType,
    Relevance,
    ReviewStatus,
    SampleUnit,
    WWCRating,
)
from .identifiers import InvalidDOI, normalize_doi, normalize_title

MIN_YEAR, MAX_YEAR = 1900, 2100


class Vocabulary(models.Model):
    """A term of a controlled vocabulary, kept as data so it can grow without code."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["order"]

    def __str__(self) -> str:
        return self.label


class GradeBand(Vocabulary):
    """A band of grades a study's students were in (K-2, 6-8, ...)."""


class Population(Vocabulary):
    """A student population a study reports on (English learners, low-income students, ...)."""


class Subject(Vocabulary):
    """A school subject a study concerns."""


class Setting(Vocabulary):
    """Where the practice happened (urban, rural, online, out of school, ...)."""


# The fields a person edits on a study, in form order: citation, design and sample, vocabularies,
# quality. The API's input and output, and the backup, all start from this one list.
STUDY_CITATION_AND_DESIGN_FIELDS = (
    "title",
    "authors",
    "year",
    "venue",
    "volume",
    "issue",
    "pages",
    "doi",
    "url",
    "abstract",
    "publication_type",
    "design",
    "sample_size",
    "sample_unit",
    "n_sites",
    "country",
)
STUDY_VOCABULARY_FIELDS = ("grade_bands", "populations", "subjects", "settings")
STUDY_QUALITY_FIELDS = ("wwc_rating", "attrition", "baseline_equivalence")
STUDY_EDITABLE_FIELDS = (
    STUDY_CITATION_AND_DESIGN_FIELDS + STUDY_VOCABULARY_FIELDS + STUDY_QUALITY_FIELDS
)


class StudyQuerySet(models.QuerySet):
    def published(self) -> "StudyQuerySet":
        return self.filter(status=ReviewStatus.PUBLISHED)

    def for_element(self, element) -> "StudyQuerySet":
        # A semi-join, not a join + DISTINCT: counts and pages stay cheap at 100,000 studies.
        return self.filter(pk__in=StudyTag.objects.filter(element=element).values("study_id"))

    def visible_to(self, user) -> "StudyQuerySet":
        """What a user may see: the public sees published studies, researchers also their own."""
        from . import roles

        if roles.is_curator(user):
            return self
        if user.is_authenticated:
            return self.filter(Q(status=ReviewStatus.PUBLISHED) | Q(created_by=user))
        return self.published()

    def matching(self, text: str) -> "StudyQuerySet":
        """Studies whose title, authors, venue or abstract hold the words.

        On PostgreSQL, the full-text column and its GIN index (``websearch_to_tsquery``: stems,
        quotes, OR, -word); elsewhere every word as a substring of one of those fields. Substring
        matching read every row: 250-650 ms a request at 100,000 studies.
        """
        from django.db import connection
        from django.db.models.expressions import RawSQL

        if connection.vendor == "postgresql":
            return self.filter(
                pk__in=RawSQL(
                    "SELECT id FROM studies_study"
                    " WHERE search_vector @@ websearch_to_tsquery('english', %s)",
                    [text],
                )
            )
        queryset = self
        for word in text.split()[:10]:
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(abstract__icontains=word)
                | Q(venue__icontains=word)
                | Q(authors__icontains=word)
            )
        return queryset

    def real(self) -> "StudyQuerySet":
        """Studies that are not synthetic benchmark data."""
        return self.filter(is_synthetic=False)


class Study(models.Model):
    """One piece of research: its citation, design, sample and review status."""

    # Citation
    title = models.TextField()
    title_key = models.CharField(
        max_length=500, editable=False, db_index=True, help_text="Normalised title, for duplicates."
    )
    authors = models.JSONField(default=list, blank=True, help_text="Ordered list of author names.")
    year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_YEAR), MaxValueValidator(MAX_YEAR)]
    )
    venue = models.CharField(max_length=300, blank=True)
    volume = models.CharField(max_length=30, blank=True)
    issue = models.CharField(max_length=30, blank=True)
    pages = models.CharField(max_length=30, blank=True)
    doi = models.CharField(max_length=200, null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    abstract = models.TextField(blank=True)
    publication_type = models.CharField(
        max_length=30, choices=PublicationType.choices, default=PublicationType.JOURNAL_ARTICLE
    )
    # Design and sample
    design = models.CharField(max_length=40, choices=Design.choices, default=Design.NOT_YET_CODED)
    sample_size = models.PositiveIntegerField(null=True, blank=True)
    sample_unit = models.CharField(max_length=20, choices=SampleUnit.choices, blank=True)
    n_sites = models.PositiveIntegerField(
        null=True, blank=True, verbose_name="number of sites", validators=[MinValueValidator(1)]
    )
    country = models.CharField(max_length=100, blank=True)
    grade_bands = models.ManyToManyField(GradeBand, blank=True, related_name="studies")
    populations = models.ManyToManyField(Population, blank=True, related_name="studies")
    subjects = models.ManyToManyField(Subject, blank=True, related_name="studies")
    settings = models.ManyToManyField(Setting, blank=True, related_name="studies")
    # Quality (a curator's WWC-style judgement)
    wwc_rating = models.CharField(
        max_length=20, choices=WWCRating.choices, default=WWCRating.NOT_REVIEWED
    )
    attrition = models.CharField(
        max_length=20, choices=Attrition.choices, default=Attrition.UNKNOWN
    )
    baseline_equivalence = models.CharField(
        max_length=20, choices=BaselineEquivalence.choices, default=BaselineEquivalence.UNKNOWN
    )
    essa_tier = models.PositiveSmallIntegerField(
        choices=EssaTier.choices, null=True, blank=True, editable=False
    )
    essa_reason = models.JSONField(default=dict, blank=True, editable=False)
    # Review
    status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT, db_index=True
    )
    review_comment = models.TextField(blank=True, help_text="The curator's latest comment.")
    source_note = models.CharField(
        max_length=300, blank=True, help_text="Where the record came from."
    )
    is_synthetic = models.BooleanField(default=False, help_text="Generated benchmark data.")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised on every edit.")

    history = HistoricalRecords(excluded_fields=["title_key"])
    objects = StudyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(fields=["doi"], name="study_doi_unique"),
            models.CheckConstraint(
                condition=Q(doi__isnull=True) | (Q(doi__startswith="10.") & Q(doi=Lower("doi"))),
                name="study_doi_normalised",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=MIN_YEAR) & Q(year__lte=MAX_YEAR), name="study_year_range"
            ),
            models.CheckConstraint(
                condition=Q(n_sites__isnull=True) | Q(n_sites__gte=1), name="study_sites_positive"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="study_version_positive"),
            models.CheckConstraint(
                condition=Q(essa_tier__isnull=True) | Q(essa_tier__gte=1, essa_tier__lte=4),
                name="study_essa_tier_range",
            ),
        ]
        indexes = [
            models.Index(fields=["title_key", "year"], name="study_title_year_idx"),
            # Public pages read published studies only: counting an element's studies walks this
            # narrow index instead of the wide table, and the default listing order (strongest
            # tier, newest first) reads its first page straight off the second. Ascending keys sort
            # NULL (untiered) last in PostgreSQL, as the listing does; SQLite cannot index NULLS
            # LAST, so it is not spelled out.
            models.Index(fields=["id"], condition=Q(status="published"), name="study_published"),
            models.Index(
                fields=["essa_tier", "-year"],
                condition=Q(status="published"),
                name="study_published_by_tier",
            ),
            # The lists' order (the API's and /studies/): a page is read off this index instead
            # of sorting every visible study (290 ms at 100,000 under load). Not partial, so a
            # researcher's list (published or their own) and a curator's use it too.
            models.Index(fields=["-year", "title"], name="study_by_year"),
            # The gap report counts studies by status with their tier, year and design alone:
            # it reads them from this narrow index (an index-only scan on PostgreSQL), not from
            # the wide rows, which a scan reads through a small ring of shared buffers.
            models.Index(
                fields=["status", "id"],
                include=["essa_tier", "year", "design"],
                name="study_gap_report",
            ),
        ]

    def __str__(self) -> str:
        # Corporate reports without named authors are cited by their publisher (e.g. RAND).
        first = self.authors[0].split(",")[0] if self.authors else (self.venue or "Anon.")
        return f"{first} ({self.year}). {self.title[:80]}"

    def save(self, *args, **kwargs) -> None:
        # Natural keys are kept in their one spelling whichever path saves the row (admin,
        # services, imports), so the database constraints can catch duplicates.
        self.title_key = normalize_title(self.title)[:500]
        if self.doi is not None:
            # Text that is not a DOI is left as typed: the check constraint refuses it.
            with contextlib.suppress(InvalidDOI):
                self.doi = normalize_doi(self.doi)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("studies:detail", args=[self.pk])

    def clean(self) -> None:
        try:
            self.doi = normalize_doi(self.doi)
        except InvalidDOI as exc:
            raise ValidationError({"doi": str(exc)}) from exc


# What the effect-size service derives from the reported statistics (never typed in).
EFFECT_COMPUTED_FIELDS = (
    "g",
    "variance",
    "ci_low",
    "ci_high",
    "p_value",
    "significant",
    "direction",
    "improvement_index",
    "conversion",
    "conversion_version",
)


class EffectSize(models.Model):
    """One reported result of a study, converted to Hedges' g (positive = favorable)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="effects")
    outcome_domain = models.CharField(max_length=30, choices=OutcomeDomain.choices)
    measure = models.CharField(max_length=300, blank=True, help_text="The test or scale used.")
    population = models.ForeignKey(
        Population,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="effects",
        help_text="Set for a subgroup effect; empty for the whole sample.",
    )
    subgroup = models.CharField(max_length=200, blank=True, help_text="Subgroup label as reported.")
    # As reported
    input_kind = models.CharField(max_length=20, choices=EffectInput.choices)
    reported = models.JSONField(default=dict, help_text="The statistics as the paper reports them.")
    reported_p = models.FloatField(null=True, blank=True)
    reported_significant = models.BooleanField(
        null=True, blank=True, help_text="Significance as the paper states it, when no p is given."
    )
    higher_is_better = models.BooleanField(default=True)
    clustered = models.BooleanField(
        default=False, help_text="Clustered design analysed as if individual (needs correction)."
    )
    icc = models.FloatField(null=True, blank=True)
    cluster_size = models.FloatField(null=True, blank=True, help_text="Average cluster size.")
    # Computed (by the evidence engine's conversion, through the effect service)
    g = models.FloatField(null=True, blank=True)
    variance = models.FloatField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)
    significant = models.BooleanField(null=True, blank=True)
    direction = models.CharField(max_length=20, choices=Direction.choices, blank=True)
    improvement_index = models.FloatField(null=True, blank=True)
    conversion = models.CharField(max_length=60, blank=True)
    conversion_version = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study", "outcome_domain", "id"]
        indexes = [
            # The gap report's outcome-domain and population columns: each study's domains and
            # whether a whole-sample effect there is favorable, and its subgroup effects by
            # population, read from these narrow indexes instead of the wide effect rows.
            models.Index(
                fields=["study", "outcome_domain"],
                include=["population", "subgroup", "g", "significant"],
                name="effect_gap_report",
            ),
            models.Index(
                fields=["population", "study"],
                include=["g", "significant"],
                condition=Q(population__isnull=False),
                name="effect_gap_report_population",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(variance__isnull=True) | Q(variance__gt=0),
                name="effect_variance_positive",
            ),
            models.CheckConstraint(
                condition=Q(reported_p__isnull=True) | Q(reported_p__gt=0, reported_p__lte=1),
                name="effect_reported_p_range",
            ),
            models.CheckConstraint(
                condition=Q(icc__isnull=True) | Q(icc__gte=0, icc__lt=1), name="effect_icc_range"
            ),
            models.CheckConstraint(
                condition=Q(ci_low__isnull=True)
                | Q(ci_high__isnull=True)
                | Q(ci_low__lte=models.F("ci_high")),
                name="effect_ci_ordered",
            ),
        ]

    def __str__(self) -> str:
        g = "not yet computed" if self.g is None else f"g = {self.g:.2f}"
        return f"{self.get_outcome_domain_display()}: {g}"

    @property
    def is_subgroup(self) -> bool:
        return self.population_id is not None or bool(self.subgroup)


class StudyTag(models.Model):
    """A link from a study to the framework element (or facet) it gives evidence on."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="tags")
    element = models.ForeignKey(
        "frameworks.Element", on_delete=models.CASCADE, related_name="study_tags"
    )
    facet = models.ForeignKey(
        "frameworks.Facet",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="study_tags",
    )
    relevance = models.CharField(
        max_length=20, choices=Relevance.choices, default=Relevance.PRIMARY
    )
    tagged_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["element__code", "study"]
        # Element pages, the recompute and the gap report all go from an element to its studies.
        indexes = [models.Index(fields=["element", "study"], name="tag_element_study")]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "element"],
                condition=Q(facet__isnull=True),
                name="tag_element_unique",
            ),
            models.UniqueConstraint(
                fields=["study", "element", "facet"],
                condition=Q(facet__isnull=False),
                name="tag_facet_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study_id} → {self.element_id} ({self.relevance})"


class ImportBatchQuerySet(models.QuerySet):
    def running(self) -> "ImportBatchQuerySet":
        return self.filter(status__in=ImportBatch.RUNNING)


class ImportBatch(models.Model):
    """A large reference file checked and imported in the background, with its progress."""

    RUNNING = (
        ImportBatchStatus.QUEUED,
        ImportBatchStatus.CHECKING,
        ImportBatchStatus.CONFIRMED,
        ImportBatchStatus.IMPORTING,
    )

    # A random id: the batch's page address, not guessable from another's.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=10, blank=True, help_text="Empty: detect it.")
    data = models.BinaryField(help_text="The upload, zlib-compressed; emptied once imported.")
    size = models.PositiveIntegerField(help_text="The upload's size in bytes.")
    status = models.CharField(
        max_length=20, choices=ImportBatchStatus.choices, default=ImportBatchStatus.QUEUED
    )
    phase = models.CharField(max_length=20, blank=True, help_text="reading, checking or saving.")
    done = models.PositiveIntegerField(default=0, help_text="Records done in this phase.")
    total = models.PositiveIntegerField(default=0, help_text="Records in this phase.")
    preview = models.JSONField(default=dict, blank=True, help_text="The checked records, shown.")
    created = models.PositiveIntegerField(default=0, help_text="Draft studies created.")
    message = models.TextField(blank=True, help_text="Why it failed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "import batches"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="batch_done_le_total"
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename or 'an upload'} ({self.get_status_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("workspace_import:batch", args=[self.pk])

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING
