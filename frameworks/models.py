"""The taxonomy: a framework version, its components, elements and facets."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class FrameworkQuerySet(models.QuerySet):
    def current(self) -> "Framework | None":
        """The framework version the site shows: the current one of the configured slug."""
        return self.filter(slug=settings.CURRENT_FRAMEWORK_SLUG, is_current=True).first()


class Framework(models.Model):
    """One published version of a learning framework (e.g. LEAP Learning Framework 2017)."""

    slug = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=20)
    publisher = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=300, blank=True, help_text="The document it comes from.")
    about = models.JSONField(default=list, blank=True, help_text="Sections: heading and text.")
    is_current = models.BooleanField(default=True)

    objects = FrameworkQuerySet.as_manager()

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "version"], name="framework_slug_version_unique"
            ),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(is_current=True), name="framework_one_current_per_slug"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"


class Component(models.Model):
    """A core component of a framework, such as Learner Connected (LC)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="components")
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=200)
    tagline = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    why_it_matters = models.TextField(blank=True)
    research_summary = models.TextField(blank=True, help_text="What the research says overall.")
    quote = models.TextField(blank=True)
    quote_attribution = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="component_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("frameworks:component", args=[self.code])


class ElementQuerySet(models.QuerySet):
    def current(self) -> "ElementQuerySet":
        """Elements of the framework version the site shows."""
        return self.filter(
            framework__slug=settings.CURRENT_FRAMEWORK_SLUG, framework__is_current=True
        )


class Element(models.Model):
    """A framework element such as LL.3, the unit evidence is rated for."""

    # Kept beside component so element codes can be unique per framework in the database.
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="elements")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="elements")
    code = models.CharField(max_length=10)
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True, help_text="What research says, in plain words.")
    order = models.PositiveSmallIntegerField(default=0)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["component__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="element_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("frameworks:element", args=[self.code])


class Facet(models.Model):
    """A sub-area of an element, such as LC.4 'Workplace experience'."""

    element = models.ForeignKey(Element, on_delete=models.CASCADE, related_name="facets")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["element", "order"]
        constraints = [
            models.UniqueConstraint(fields=["element", "code"], name="facet_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"


class OpenQuestion(models.Model):
    """A question research has not yet answered, raised for a component or an element."""

    component = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.CASCADE, related_name="open_questions"
    )
    element = models.ForeignKey(
        Element, null=True, blank=True, on_delete=models.CASCADE, related_name="open_questions"
    )
    text = models.TextField()
    source = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["component__order", "element__order", "order"]
        constraints = [
            models.CheckConstraint(
                condition=Q(component__isnull=False) | Q(element__isnull=False),
                name="open_question_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class Highlight(models.Model):
    """A component's headline statistic or highlighted result, and the study it comes from."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="highlights")
    statistic = models.CharField(max_length=50, blank=True)
    text = models.TextField()
    study = models.ForeignKey(
        "studies.Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["component", "order"]

    def __str__(self) -> str:
        return f"{self.statistic} {self.text[:60]}"
