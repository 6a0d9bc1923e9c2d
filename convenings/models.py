"""The field's conversations: convenings, their sessions, presenters and findings."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .constants import Audience, FindingKind, SessionKind


class Organization(models.Model):
    """An organization people present for (a university, a foundation, a district)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("convenings:organization", args=[self.slug])


class Person(models.Model):
    """Someone who presented at a convening."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("convenings:person", args=[self.slug])


class Convening(models.Model):
    """A research convening: who met, when, why, with whose support."""

    slug = models.SlugField(max_length=200, unique=True)
    title = models.CharField(max_length=300)
    date = models.DateField(null=True, blank=True)
    date_text = models.CharField(
        max_length=100, blank=True, help_text="The date as the source gives it."
    )
    host = models.CharField(max_length=200, blank=True)
    context = models.CharField(max_length=300, blank=True)
    sponsor = models.CharField(max_length=200, blank=True)
    attendance = models.CharField(max_length=300, blank=True)
    researchers_count = models.PositiveIntegerField(null=True, blank=True)
    others_count = models.PositiveIntegerField(null=True, blank=True)
    goals = models.TextField(blank=True)
    summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = [models.F("date").desc(nulls_last=True), "-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("convenings:detail", args=[self.slug])


class Session(models.Model):
    """One session of a convening's agenda."""

    convening = models.ForeignKey(Convening, on_delete=models.CASCADE, related_name="sessions")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    media_links = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["convening", "order"]
        indexes = [models.Index(fields=["convening", "order"], name="session_order_idx")]
        constraints = [
            # One session per agenda slot, so "the agenda in order" is never ambiguous.
            models.UniqueConstraint(fields=["convening", "order"], name="session_order_unique")
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("convenings:session", args=[self.convening.slug, self.pk])


class Presenter(models.Model):
    """A person presenting in a session, with their title and organization at the time."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="presenters")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="presentations")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="presentations"
    )
    title = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["session", "order"]
        constraints = [
            models.UniqueConstraint(fields=["session", "person"], name="presenter_once_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.title}, {self.organization})"


class Finding(models.Model):
    """What a convening session or a report concluded, recommended or left open."""

    convening = models.ForeignKey(
        Convening, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    source = models.CharField(max_length=300, blank=True, help_text="A report, when not a session.")
    source_study = models.ForeignKey(
        "studies.Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=FindingKind.choices)
    audience = models.CharField(max_length=20, choices=Audience.choices, blank=True)
    text = models.TextField()
    quote = models.TextField(blank=True)
    attribution = models.CharField(max_length=300, blank=True)
    elements = models.ManyToManyField("frameworks.Element", blank=True, related_name="findings")
    studies = models.ManyToManyField("studies.Study", blank=True, related_name="findings")
    order = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords(m2m_fields=[elements, studies])

    class Meta:
        ordering = ["convening", "session__order", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=False) | Q(convening__isnull=False) | ~Q(source=""),
                name="finding_has_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:70]}"
