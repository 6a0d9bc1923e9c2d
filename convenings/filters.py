"""One FilterSet per listable model, shared by the HTML pages and the API."""

import django_filters as filters

from .constants import Audience, FindingKind, SessionKind
from .models import Convening, Finding, Session


class ConveningFilterSet(filters.FilterSet):
    date_min = filters.DateFilter(field_name="date", lookup_expr="gte", label="Held on or after")
    date_max = filters.DateFilter(field_name="date", lookup_expr="lte", label="Held on or before")
    host = filters.CharFilter(field_name="host", lookup_expr="icontains", label="Host")

    class Meta:
        model = Convening
        fields = ["date_min", "date_max", "host"]


class SessionFilterSet(filters.FilterSet):
    convening = filters.CharFilter(
        field_name="convening__slug", lookup_expr="exact", label="Convening (slug)"
    )
    kind = filters.ChoiceFilter(
        field_name="kind", lookup_expr="exact", choices=SessionKind.choices, label="Kind"
    )
    person = filters.CharFilter(
        field_name="presenters__person__slug",
        lookup_expr="exact",
        distinct=True,
        label="Presenter (slug)",
    )
    organization = filters.CharFilter(
        field_name="presenters__organization__slug",
        lookup_expr="exact",
        distinct=True,
        label="Organization (slug)",
    )

    class Meta:
        model = Session
        fields = ["convening", "kind", "person", "organization"]


class FindingFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(
        field_name="kind", lookup_expr="exact", choices=FindingKind.choices, label="Kind"
    )
    audience = filters.ChoiceFilter(
        field_name="audience", lookup_expr="exact", choices=Audience.choices, label="Audience"
    )
    element = filters.CharFilter(
        field_name="elements__code",
        lookup_expr="iexact",
        distinct=True,
        label="Framework element code, e.g. LL.3",
    )
    convening = filters.CharFilter(
        field_name="convening__slug", lookup_expr="exact", label="Convening (slug)"
    )
    session = filters.NumberFilter(field_name="session_id", lookup_expr="exact", label="Session")
    source = filters.CharFilter(
        field_name="source", lookup_expr="icontains", label="Report (words in its name)"
    )
    study = filters.NumberFilter(
        field_name="studies__id", lookup_expr="exact", distinct=True, label="Linked study (id)"
    )

    class Meta:
        model = Finding
        fields = ["kind", "audience", "element", "convening", "session", "source", "study"]
