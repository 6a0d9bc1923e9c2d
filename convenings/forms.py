"""The organiser's forms. They parse and check input; the services in services.py write."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from frameworks.models import Element
from studies.identifiers import InvalidDOI, normalize_doi
from studies.models import Study

from .constants import Audience, FindingKind
from .models import Convening, Session
from .services import CONVENING_FIELDS, media_links_clean


class VersionedForm(forms.Form):
    """A form that edits a record remembers the version it was loaded at (for 'changed by
    someone else' instead of a silent overwrite)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class ConveningForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Convening
        fields = [
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
        ]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "goals": forms.Textarea(attrs={"rows": 3}),
            "summary": forms.Textarea(attrs={"rows": 6}),
        }
        labels = {"context": "Occasion", "date_text": "Date as the source gives it"}

    def convening_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in CONVENING_FIELDS}


class MediaLinksField(forms.CharField):
    """One link a line: a URL, or 'label | URL'."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(
                f"{link['label']} | {link['url']}"
                if link.get("label") != link["url"]
                else link["url"]
                for link in value
            )
        return value

    def to_python(self, value):
        lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
        links = []
        for line in lines:
            label, _, url = line.rpartition("|")
            links.append({"label": label.strip(), "url": url.strip()})
        try:
            return media_links_clean(links)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["media_links"]) from exc


class SessionForm(forms.ModelForm):
    media_links = MediaLinksField(
        required=False,
        label="Videos and slides",
        help_text="One link a line: a web address, or a label, a bar and the address "
        "(Slides | https://example.org/slides.pdf).",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Session
        fields = ["kind", "title", "summary", "media_links"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 5})}

    def session_data(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in ("kind", "title", "summary", "media_links")
        }


class PresenterForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="People already recorded are reused.")
    title = forms.CharField(max_length=300, required=False, label="Title at the time")
    organization = forms.CharField(
        max_length=200,
        required=False,
        label="Organization at the time",
        widget=forms.TextInput(attrs={"list": "known-organizations"}),
    )
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class StudiesField(forms.CharField):
    """Published studies, given by id or DOI, separated by commas or spaces."""

    def to_python(self, value):
        tokens = (value or "").replace(",", " ").split()
        ids, dois, unknown = {}, {}, []
        for token in tokens:
            if token.isdigit():
                ids[int(token)] = token
                continue
            try:
                dois[normalize_doi(token)] = token
            except InvalidDOI:
                unknown.append(token)
        studies = []
        if ids or dois:
            studies = list(
                Study.objects.published().filter(Q(pk__in=list(ids)) | Q(doi__in=list(dois)))
            )
        found = {s.pk for s in studies} | {s.doi for s in studies}
        unknown += [token for key, token in (ids | dois).items() if key not in found]
        if unknown:
            raise ValidationError(f"No published study with the id or DOI {', '.join(unknown)}.")
        return studies

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(getattr(s, "pk", s)) for s in value)
        return value


class FindingForm(VersionedForm):
    kind = forms.ChoiceField(choices=FindingKind.choices)
    audience = forms.ChoiceField(
        choices=[("", "Everyone (no particular audience)"), *Audience.choices], required=False
    )
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="What was said")
    quote = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Quote (exact words)"
    )
    attribution = forms.CharField(max_length=300, required=False, label="Quote attributed to")
    elements = forms.ModelMultipleChoiceField(
        queryset=Element.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Framework elements it speaks to",
    )
    studies = StudiesField(
        required=False,
        label="Studies it draws on",
        help_text="Published study ids or DOIs, separated by commas.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["elements"].queryset = Element.objects.current().select_related("component")

    def finding_data(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("kind", "audience", "text", "quote", "attribution", "elements", "studies")
        }


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
