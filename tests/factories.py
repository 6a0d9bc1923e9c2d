"""factory_boy factories for every app's models."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from convenings.models import Convening, Finding, Organization, Person, Presenter, Session
from frameworks.models import Component, Element, Facet, Framework
from studies.constants import Design, EffectInput, OutcomeDomain, ReviewStatus
from studies.models import EffectSize, Study, StudyTag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or []:
            # get_or_create: transactional tests flush the groups the migration created.
            self.groups.add(Group.objects.get_or_create(name=name)[0])


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework
        django_get_or_create = ("slug", "version")

    slug = "leap"
    name = "LEAP Learning Framework"
    version = "2017"


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component
        django_get_or_create = ("framework", "code")

    framework = factory.SubFactory(FrameworkFactory)
    code = factory.Iterator(["LC", "LF", "LL", "LD"])
    name = factory.LazyAttribute(lambda c: f"Learner {c.code}")
    order = factory.Sequence(int)


class ElementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Element
        django_get_or_create = ("framework", "code")

    component = factory.SubFactory(ComponentFactory)
    framework = factory.SelfAttribute("component.framework")
    code = factory.Sequence(lambda n: f"LL.{n + 1}")
    title = factory.Sequence(lambda n: f"Element {n}")
    order = factory.Sequence(int)


class FacetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facet

    element = factory.SubFactory(ElementFactory)
    code = factory.Sequence(lambda n: f"f{n}")
    name = factory.Sequence(lambda n: f"Facet {n}")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    title = factory.Sequence(lambda n: f"Effects of personalized learning practice number {n}")
    authors = factory.List([factory.Faker("name"), factory.Faker("name")])
    year = 2015
    venue = "Journal of Educational Research"
    design = Design.RCT
    sample_size = 400
    sample_unit = "students"
    n_sites = 3
    status = ReviewStatus.PUBLISHED


class EffectSizeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EffectSize

    study = factory.SubFactory(StudyFactory)
    outcome_domain = OutcomeDomain.MATHEMATICS
    measure = "State mathematics test"
    input_kind = EffectInput.SMD
    reported = factory.LazyAttribute(lambda e: {"value": e.g, "variance": e.variance})
    g = 0.3
    variance = 0.01


class StudyTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudyTag

    study = factory.SubFactory(StudyFactory)
    element = factory.SubFactory(ElementFactory)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Presenter {n}")
    slug = factory.Sequence(lambda n: f"presenter-{n}")


class ConveningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Convening

    slug = factory.Sequence(lambda n: f"convening-{n}")
    title = factory.Sequence(lambda n: f"Research convening {n}")


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    convening = factory.SubFactory(ConveningFactory)
    order = factory.Sequence(int)
    kind = "research"
    title = factory.Sequence(lambda n: f"Session {n}")


class PresenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Presenter

    session = factory.SubFactory(SessionFactory)
    person = factory.SubFactory(PersonFactory)
    organization = factory.SubFactory(OrganizationFactory)
    title = "Researcher"


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    session = factory.SubFactory(SessionFactory)
    convening = factory.SelfAttribute("session.convening")
    kind = "finding"
    text = factory.Sequence(lambda n: f"Finding number {n}")


class OpenQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "frameworks.OpenQuestion"

    component = factory.SubFactory(ComponentFactory)
    text = factory.Sequence(lambda n: f"Open question number {n}?")
    source = "Research snapshot 2017"
