"""Workspace forms: they parse and check input; the services in services.py write."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model, model_to_dict
from django.urls import reverse_lazy

from evidence.stats.effect_sizes import _OPTIONAL, _REQUIRED
from frameworks.models import Element, Facet

from .constants import EffectInput, OutcomeDomain, Relevance
from .identifiers import InvalidDOI, normalize_doi
from .imports import FORMAT_LABELS, ImportRefused, import_check_size
from .models import EffectSize, Population, Study

CITATION = [
    "title",
    "authors",
    "year",
    "publication_type",
    "venue",
    "volume",
    "issue",
    "pages",
    "doi",
    "url",
    "abstract",
]
DESIGN = ["design", "sample_size", "sample_unit", "n_sites", "country"]
POPULATIONS = ["grade_bands", "populations", "subjects", "settings"]
QUALITY = ["wwc_rating", "attrition", "baseline_equivalence"]
FIELDSETS = [
    ("Citation", CITATION),
    ("Design and sample", DESIGN),
    ("Populations and settings", POPULATIONS),
    ("Quality (curators)", QUALITY),
]


class AuthorsField(forms.CharField):
    """Authors one a line, in order ("Last, F." as the paper lists them)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class DOIField(forms.CharField):
    """A DOI in any spelling (https://doi.org/…, doi:…, upper case), kept in its one spelling."""

    def to_python(self, value):
        try:
            return normalize_doi(super().to_python(value))
        except InvalidDOI as exc:
            raise ValidationError(str(exc)) from exc


class StudyForm(forms.Form):
    """A study's citation, design, sample and populations; quality only for curators.

    A plain form over the model's fields (not a ModelForm): the service validates the model and
    refuses duplicates by naming the existing study, so the form must not do it first.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    authors = AuthorsField(required=False, help_text="One author a line, in the paper's order.")
    doi = DOIField(
        required=False,
        label="DOI",
        max_length=200,
        help_text="Any spelling: 10.1234/abc, doi:10.1234/abc or https://doi.org/10.1234/abc.",
    )

    def __init__(self, data=None, *, instance: Study | None = None, initial=None, curator=False):
        values = model_to_dict(instance, fields=STUDY_FIELDS) if instance else {}
        super().__init__(data, initial={**values, **(initial or {})})
        self.instance = instance
        # The DOI is checked as it is typed (normalised, duplicates named) by an htmx fragment.
        self.fields["doi"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("workspace:doi-check"),
                "hx-trigger": "input changed delay:400ms, blur",
                "hx-target": "#doi-check",
                "hx-include": "[name=title],[name=year]",
                "aria-describedby": "doi-check id_doi_helptext",
            }
        )
        if instance:
            self.fields["doi"].widget.attrs["hx-vals"] = json.dumps({"study": instance.pk})
        if not curator:
            for name in QUALITY:
                del self.fields[name]
        self.fieldsets = [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in FIELDSETS
            if any(name in self.fields for name in names)
        ]

    def study_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}


STUDY_FIELDS = CITATION + DESIGN + POPULATIONS + QUALITY
StudyForm.base_fields = {
    **fields_for_model(
        Study,
        fields=STUDY_FIELDS,
        widgets={
            "title": forms.Textarea(attrs={"rows": 2}),
            "abstract": forms.Textarea(attrs={"rows": 6}),
            "grade_bands": forms.CheckboxSelectMultiple,
            "populations": forms.CheckboxSelectMultiple,
            "subjects": forms.CheckboxSelectMultiple,
            "settings": forms.CheckboxSelectMultiple,
        },
    ),
    **StudyForm.base_fields,
}


class ReviewForm(forms.Form):
    """A curator's (or, to submit, a researcher's) review action with its comment."""

    comment = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action

    def clean_comment(self):
        comment = self.cleaned_data["comment"].strip()
        if self.action in ("return", "retract") and not comment:
            raise ValidationError(
                "Say why, so the researcher knows what to do next."
                if self.action == "return"
                else "Give the reason for the retraction."
            )
        return comment


class MergeForm(forms.Form):
    """Two duplicate studies: the one kept and the one merged into it (then deleted)."""

    keep = forms.ModelChoiceField(
        queryset=Study.objects.all(), widget=forms.NumberInput, label="Keep study (id)"
    )
    remove = forms.ModelChoiceField(
        queryset=Study.objects.all(),
        widget=forms.NumberInput,
        label="Merge and delete study (id)",
    )

    def clean(self):
        data = super().clean()
        if data.get("keep") and data.get("keep") == data.get("remove"):
            raise ValidationError("Choose two different studies.")
        return data


# --- Effects and the calculator -------------------------------------------------------------

STATISTICS = {
    "value": "Reported effect size",
    "kind": "Reported as",
    "se": "Standard error",
    "variance": "Variance",
    "ci_low": "95% CI lower bound",
    "ci_high": "95% CI upper bound",
    "mean_t": "Treatment mean",
    "sd_t": "Treatment SD",
    "n_t": "Treatment group size",
    "mean_c": "Comparison mean",
    "sd_c": "Comparison SD",
    "n_c": "Comparison group size",
    "t": "t statistic",
    "f": "F statistic",
    "p": "p value",
    "sign": "Direction",
    "odds_ratio": "Odds ratio",
    "method": "Conversion method",
    "events_t": "Treatment events",
    "events_c": "Comparison events",
    "r": "Correlation r",
    "n": "Total sample size",
    "points": "Improvement index (percentile points)",
}
HELP = {  # odds ratios only: their SE and variance are on the log scale, the CI is not
    "se": "Of ln(OR).",
    "variance": "Of ln(OR).",
    "ci_low": "On the odds-ratio scale, as reported.",
}
CHOICES = {
    "kind": [("g", "Hedges' g"), ("d", "Cohen's d")],
    "method": [("logit", "Logit (Hasselblad–Hedges)"), ("cox", "Cox (WWC, dichotomous)")],
    "sign": [(1, "Treatment did better (+1)"), (-1, "Comparison did better (−1)")],
}


def statistic_names(kind: str) -> list[str]:
    """The reported statistics an input kind takes: the required ones first."""
    required = list(_REQUIRED[kind])
    return required + [name for name in _OPTIONAL.get(kind, ()) if name not in required]


def _statistic_field(name: str, kind: str, required: bool) -> forms.Field:
    attrs = {"aria-required": "true"} if required else {}
    label = STATISTICS[name] + ("" if required else " (optional)")
    if name in CHOICES:
        return forms.TypedChoiceField(
            choices=[("", "—")] + CHOICES[name],
            coerce=type(CHOICES[name][0][0]),
            empty_value=None,
            required=False,
            label=label,
            widget=forms.Select(attrs=attrs),
        )
    return forms.FloatField(
        required=False,
        label=label,
        help_text=HELP.get(name, "") if kind == EffectInput.ODDS_RATIO else "",
        widget=forms.NumberInput(attrs={"step": "any", **attrs}),
    )


class EffectKindForm(forms.Form):
    """First step of the calculator: how the paper reports the result."""

    input_kind = forms.ChoiceField(
        choices=EffectInput.choices, widget=forms.RadioSelect, label="The paper reports"
    )


class EffectForm(forms.Form):
    """One effect as the paper reports it; the statistics shown depend on the input kind.

    Missing or impossible statistics are left to the conversion, which names the field at fault,
    so the live preview and the save give the same message.
    """

    outcome_domain = forms.ChoiceField(choices=OutcomeDomain.choices, label="Outcome")
    measure = forms.CharField(max_length=300, required=False, label="Measure (test or scale)")
    population = forms.ModelChoiceField(
        queryset=Population.objects.all(),
        required=False,
        empty_label="Whole sample",
        label="Subgroup population",
    )
    subgroup = forms.CharField(max_length=200, required=False, label="Subgroup as reported")
    higher_is_better = forms.BooleanField(
        required=False, initial=True, label="Higher scores are better"
    )
    reported_p = forms.FloatField(
        required=False, min_value=0, max_value=1, label="p value as reported (optional)"
    )
    clustered = forms.BooleanField(
        required=False, label="Clusters were assigned but analysed as individuals"
    )
    icc = forms.FloatField(
        required=False, min_value=0, max_value=0.99, label="Intraclass correlation (optional)"
    )
    cluster_size = forms.FloatField(
        required=False, min_value=1, label="Average cluster size (for the correction)"
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        # Not "kind": an smd has a statistic of that name, and templates look up fields first.
        self.input_kind = kind
        self.statistic_names = statistic_names(kind)
        for name in self.statistic_names:
            self.fields[name] = _statistic_field(name, kind, required=name in _REQUIRED[kind])
        if kind == EffectInput.PERCENTILE_POINTS:
            # An improvement index with a stated verdict but no group sizes is kept as a point
            # estimate (shown, not pooled): the service's rule, so the form offers the verdict.
            self.fields["reported_significant"] = forms.NullBooleanField(
                required=False,
                label="Significant as the paper states it (when no group sizes)",
                widget=forms.NullBooleanSelect,
            )

    @property
    def kind_label(self) -> str:
        return EffectInput(self.input_kind).label

    @property
    def statistics(self):
        return [self[name] for name in self.statistic_names]

    @staticmethod
    def initial_from(effect: EffectSize) -> dict:
        names = [
            "outcome_domain",
            "measure",
            "population",
            "subgroup",
            "higher_is_better",
            "reported_p",
            "reported_significant",
            "clustered",
            "icc",
            "cluster_size",
            "notes",
            "version",
        ]
        return {**{name: getattr(effect, name) for name in names}, **(effect.reported or {})}

    def apply_to(self, effect: EffectSize) -> EffectSize:
        """Put the cleaned input on an effect (unsaved): its fields and what was reported."""
        data = self.cleaned_data
        for name in self.base_fields:
            if name != "version":
                setattr(effect, name, data[name])
        effect.input_kind = self.input_kind
        effect.reported_significant = data.get("reported_significant")
        effect.reported = {
            name: _plain_number(data[name])
            for name in self.statistic_names
            if data.get(name) not in (None, "")
        }
        return effect

    def label_of(self, name: str) -> str:
        field = self.fields.get(name)
        return field.label.removesuffix(" (optional)") if field else name


def _plain_number(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


# --- Tags ----------------------------------------------------------------------------------------


def tag_target_choices(elements) -> list:
    """The framework tree as grouped choices: each element, then its facets ("e:12", "f:34")."""
    groups: dict = {}
    for element in elements:
        options = groups.setdefault(str(element.component), [])
        options.append((f"e:{element.pk}", f"{element.code} {element.title}"))
        options += [
            (f"f:{facet.pk}", f"{element.code} › {facet.name}") for facet in element.facets.all()
        ]
    return list(groups.items())


def _target(value: str) -> tuple[Element, Facet | None]:
    kind, _, pk = value.partition(":")
    if kind == "f":
        facet = Facet.objects.select_related("element").get(pk=pk)
        return facet.element, facet
    return Element.objects.get(pk=pk), None


class TagForm(forms.Form):
    """Tag a study to elements or facets of the framework tree."""

    targets = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label="Elements and facets"
    )
    relevance = forms.ChoiceField(
        choices=Relevance.choices, initial=Relevance.PRIMARY, widget=forms.RadioSelect
    )

    def __init__(self, *args, elements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].choices = tag_target_choices(elements)

    def chosen(self) -> list[tuple[Element, Facet | None]]:
        return [_target(value) for value in self.cleaned_data["targets"]]


class BulkTagForm(forms.Form):
    """Tag the chosen studies of a filtered list (or every study matching it) to one element."""

    target = forms.ChoiceField(label="Tag to")
    relevance = forms.ChoiceField(choices=Relevance.choices, initial=Relevance.PRIMARY)
    studies = forms.ModelMultipleChoiceField(queryset=Study.objects.none(), required=False)
    everything = forms.BooleanField(required=False, label="Every study matching the filter")

    def __init__(self, *args, elements, studies, **kwargs):
        super().__init__(*args, **kwargs)
        choices = tag_target_choices(elements)
        self.fields["target"].choices = [("", "Choose an element or facet"), *choices]
        # Only studies of the filtered list can be chosen, so a forged id cannot reach further.
        self.fields["studies"].queryset = studies

    def clean(self):
        data = super().clean()
        if not data.get("studies") and not data.get("everything"):
            raise ValidationError("Tick the studies to tag, or every study matching the filter.")
        return data

    def chosen(self) -> tuple[Element, Facet | None]:
        return _target(self.cleaned_data["target"])


class ImportUploadForm(forms.Form):
    """The import page's upload: a reference file, and its format unless detected."""

    file = forms.FileField(
        label="Reference file",
        help_text="RIS (.ris, .txt, .nbib), BibTeX (.bib) or CSV (.csv, .tsv, .txt).",
    )
    format = forms.ChoiceField(
        choices=[("", "Detect from the file"), *FORMAT_LABELS.items()], required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            import_check_size(upload.size)
        except ImportRefused as exc:
            raise ValidationError(str(exc)) from exc
        return upload
