from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Convening, Finding, Organization, Person, Presenter, Session


class SessionInline(admin.TabularInline):
    model = Session
    fields = ["order", "kind", "title"]
    show_change_link = True
    extra = 0


class ConveningFindingInline(admin.StackedInline):
    model = Finding
    fk_name = "convening"
    fields = [
        ("kind", "audience"),
        "session",
        "text",
        ("quote", "attribution"),
        "elements",
        "studies",
        "order",
    ]
    autocomplete_fields = ["elements"]
    raw_id_fields = ["session", "studies"]
    extra = 0


@admin.register(Convening)
class ConveningAdmin(SimpleHistoryAdmin):
    list_display = ["title", "date", "date_text", "host", "sponsor"]
    search_fields = ["title", "host", "sponsor", "goals", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [SessionInline, ConveningFindingInline]


class PresenterInline(admin.TabularInline):
    model = Presenter
    fields = ["person", "title", "organization", "order"]
    autocomplete_fields = ["person", "organization"]
    extra = 0


class SessionFindingInline(admin.StackedInline):
    model = Finding
    fk_name = "session"
    fields = [
        ("kind", "audience"),
        "text",
        ("quote", "attribution"),
        "elements",
        "studies",
        "order",
    ]
    autocomplete_fields = ["elements"]
    raw_id_fields = ["studies"]
    extra = 0


@admin.register(Session)
class SessionAdmin(SimpleHistoryAdmin):
    list_display = ["title", "convening", "order", "kind"]
    list_filter = ["kind", "convening"]
    search_fields = ["title", "summary"]
    list_select_related = ["convening"]
    inlines = [PresenterInline, SessionFindingInline]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Presenter)
class PresenterAdmin(admin.ModelAdmin):
    list_display = ["person", "title", "organization", "session"]
    search_fields = ["person__name", "organization__name", "title"]
    list_select_related = ["person", "organization", "session"]
    autocomplete_fields = ["person", "organization"]


@admin.register(Finding)
class FindingAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "kind", "audience", "convening", "session", "source"]
    list_filter = ["kind", "audience", "convening"]
    search_fields = ["text", "quote", "attribution", "source"]
    list_select_related = ["convening", "session"]
    autocomplete_fields = ["elements"]
    raw_id_fields = ["session", "studies", "source_study"]
