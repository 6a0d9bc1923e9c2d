from django.contrib import admin

from .models import Component, Element, Facet, Framework, Highlight, OpenQuestion


class ComponentInline(admin.TabularInline):
    model = Component
    fields = ["code", "name", "tagline", "order"]
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "slug", "publisher", "is_current"]
    list_filter = ["is_current", "slug"]
    search_fields = ["name", "slug", "publisher"]
    inlines = [ComponentInline]


class ElementInline(admin.TabularInline):
    model = Element
    fields = ["code", "title", "order"]
    extra = 0


class OpenQuestionInline(admin.TabularInline):
    model = OpenQuestion
    fk_name = "component"
    fields = ["text", "source", "order"]
    extra = 0


class HighlightInline(admin.TabularInline):
    model = Highlight
    fields = ["statistic", "text", "study", "order"]
    raw_id_fields = ["study"]
    extra = 0


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "framework", "order"]
    list_filter = ["framework"]
    search_fields = ["code", "name", "tagline", "summary"]
    inlines = [ElementInline, OpenQuestionInline, HighlightInline]


class FacetInline(admin.TabularInline):
    model = Facet
    fields = ["code", "name", "order"]
    extra = 0


@admin.register(Element)
class ElementAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "component", "framework"]
    list_filter = ["framework", "component__code"]
    search_fields = ["code", "title", "summary"]
    list_select_related = ["component", "framework"]
    inlines = [FacetInline]


@admin.register(Facet)
class FacetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "element"]
    list_filter = ["element__component__code"]
    search_fields = ["code", "name"]
    list_select_related = ["element"]


@admin.register(OpenQuestion)
class OpenQuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "component", "element", "source"]
    list_filter = ["component__code"]
    search_fields = ["text", "source"]
    list_select_related = ["component", "element"]


@admin.register(Highlight)
class HighlightAdmin(admin.ModelAdmin):
    list_display = ["statistic", "text", "component", "study"]
    list_filter = ["component__code"]
    search_fields = ["statistic", "text"]
    list_select_related = ["component", "study"]
    raw_id_fields = ["study"]
