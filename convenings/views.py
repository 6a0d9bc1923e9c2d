from django.shortcuts import get_object_or_404, render

from .models import Convening, Organization, Person, Presenter, Session


def convening_list(request):
    return render(request, "convenings/list.html", {"convenings": Convening.objects.all()})


def convening_detail(request, slug: str):
    convening = get_object_or_404(
        Convening.objects.prefetch_related(
            "sessions__presenters__person", "sessions__presenters__organization"
        ),
        slug=slug,
    )
    return render(request, "convenings/detail.html", {"convening": convening})


def session_detail(request, slug: str, pk: int):
    session = get_object_or_404(
        Session.objects.select_related("convening").prefetch_related(
            "presenters__person", "presenters__organization", "findings__elements"
        ),
        convening__slug=slug,
        pk=pk,
    )
    return render(request, "convenings/session.html", {"session": session})


def _presentations(**filters):
    return Presenter.objects.filter(**filters).select_related(
        "session__convening", "person", "organization"
    )


def person_detail(request, slug: str):
    person = get_object_or_404(Person, slug=slug)
    return render(
        request,
        "convenings/person.html",
        {"subject": person, "presentations": _presentations(person=person)},
    )


def organization_detail(request, slug: str):
    organization = get_object_or_404(Organization, slug=slug)
    return render(
        request,
        "convenings/person.html",
        {"subject": organization, "presentations": _presentations(organization=organization)},
    )
