"""Stored syntheses: per-element evidence summaries, their history, and recompute bookkeeping."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from studies.constants import OutcomeDomain

from .constants import JobState, Rating


class EvidenceSummary(models.Model):
    """What the published evidence says about one element (optionally one outcome or population)."""

    element = models.ForeignKey(
        "frameworks.Element", on_delete=models.CASCADE, related_name="evidence_summaries"
    )
    # Empty outcome domain and no population: the element's overall summary.
    outcome_domain = models.CharField(max_length=30, choices=OutcomeDomain.choices, blank=True)
    population = models.ForeignKey(
        "studies.Population", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rating = models.CharField(max_length=30, choices=Rating.choices)
    reasons = models.JSONField(default=list, help_text="The rules that applied, as data.")
    next_level = models.JSONField(
        default=dict, blank=True, help_text="What would raise the rating."
    )
    k_studies = models.PositiveIntegerField(default=0)
    total_n = models.PositiveIntegerField(default=0)
    # Pooled random-effects estimate (null when there is nothing to pool)
    method = models.CharField(max_length=10, blank=True)
    ci_method = models.CharField(max_length=10, blank=True)
    k = models.PositiveIntegerField(default=0)
    estimate = models.FloatField(null=True, blank=True)
    se = models.FloatField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    pi_low = models.FloatField(null=True, blank=True)
    pi_high = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)
    tau2 = models.FloatField(null=True, blank=True)
    i2 = models.FloatField(null=True, blank=True)
    h2 = models.FloatField(null=True, blank=True)
    q = models.FloatField(null=True, blank=True)
    q_p = models.FloatField(null=True, blank=True)
    forest = models.JSONField(default=list, blank=True, help_text="Per-study rows for the plot.")
    rules_version = models.PositiveSmallIntegerField()
    # When these figures were computed; a later recompute that finds the same leaves it as is.
    computed_at = models.DateTimeField()
    # A hash of every stored figure above, so a recompute that changes nothing writes nothing.
    fingerprint = models.CharField(max_length=32, blank=True, default="", editable=False)

    class Meta:
        verbose_name_plural = "evidence summaries"
        ordering = ["element", "outcome_domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["element", "outcome_domain"],
                condition=Q(population__isnull=True),
                name="summary_element_domain_unique",
            ),
            models.UniqueConstraint(
                fields=["element", "outcome_domain", "population"],
                condition=Q(population__isnull=False),
                name="summary_element_domain_population_unique",
            ),
            models.CheckConstraint(
                condition=Q(tau2__isnull=True) | Q(tau2__gte=0), name="summary_tau2_non_negative"
            ),
        ]

    def __str__(self) -> str:
        scope = self.outcome_domain or "all outcomes"
        return f"{self.element_id} / {scope}: {self.rating}"


class EvidenceHistory(models.Model):
    """A change of an element's rating or pooled estimate, and why."""

    element = models.ForeignKey(
        "frameworks.Element", on_delete=models.CASCADE, related_name="evidence_history"
    )
    outcome_domain = models.CharField(max_length=30, choices=OutcomeDomain.choices, blank=True)
    rating_before = models.CharField(max_length=30, choices=Rating.choices, blank=True)
    rating_after = models.CharField(max_length=30, choices=Rating.choices)
    estimate_before = models.FloatField(null=True, blank=True)
    estimate_after = models.FloatField(null=True, blank=True)
    k_before = models.PositiveIntegerField(default=0)
    k_after = models.PositiveIntegerField(default=0)
    reasons = models.JSONField(default=list)
    rules_version = models.PositiveSmallIntegerField()
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "evidence history"
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.element_id}: {self.rating_before or '–'} → {self.rating_after}"


class DirtyElement(models.Model):
    """An element whose summaries are stale; kept in the database so no change is lost."""

    element = models.OneToOneField(
        "frameworks.Element", on_delete=models.CASCADE, related_name="dirty_mark"
    )
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.element_id} dirty since {self.marked_at:%Y-%m-%d %H:%M}"


class RecomputeJob(models.Model):
    """A requested recompute (all elements or one), with its progress for the API."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    element = models.ForeignKey(
        "frameworks.Element", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="job_done_le_total"
            )
        ]

    def __str__(self) -> str:
        return f"recompute {self.id} ({self.state})"


class GapFact(models.Model):
    """One thing a tagged study contributes to the gap report: it is on an element, and (with a
    dimension) has a code there: an outcome domain, population, grade band or setting.

    Derived data, kept by ``evidence.gaps.facts`` from the study, its tags, effects and
    vocabularies whenever a service changes them (rebuilt in full by ``rebuild_gap_facts``). The
    study's status, tier, year and design are copied so that a report reads these rows alone.
    """

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="+")
    element = models.ForeignKey("frameworks.Element", on_delete=models.CASCADE, related_name="+")
    # "element" for the study's place on the element itself (code ""), else the column's dimension.
    dimension = models.CharField(max_length=20)
    code = models.CharField(max_length=40, blank=True)
    # Outcome domain: 1 if a whole-sample effect there is significant and favorable. Population:
    # 1 the study is about it (its populations), 2 a subgroup effect on it, 4 a favorable one.
    flags = models.PositiveSmallIntegerField(default=0)
    # The study's, as of the last refresh (the services and the engine's tier updates refresh).
    status = models.CharField(max_length=20)
    tier = models.PositiveSmallIntegerField(null=True)
    year = models.PositiveSmallIntegerField()
    design = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "element", "dimension", "code"], name="gap_fact_unique"
            )
        ]
        # The report reads whole dimensions of the studies in view, grouped by element and code.
        indexes = [
            models.Index(
                fields=["dimension", "status", "element", "code"],
                include=["study", "flags", "tier", "year", "design"],
                name="gap_fact_by_dimension",
            )
        ]

    def __str__(self) -> str:
        return f"study {self.study_id} on element {self.element_id}: {self.dimension} {self.code}"
