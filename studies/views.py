from django.shortcuts import render

from . import selectors


def study_detail(request, pk: int):
    study = selectors.published_study(pk)
    return render(request, "studies/detail.html", {"study": study})
