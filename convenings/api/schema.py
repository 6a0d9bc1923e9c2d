"""OpenAPI names for the convenings' choice sets.

Sessions and findings both have a `kind` (as do studies' effect inputs), each with its own
choices. drf-spectacular would name them from a hash (KindB13Enum) and warn; a NamedChoiceField
gives its choice set a name of its own (SessionKindEnum, FindingKindEnum) instead.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from rest_framework import serializers


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose choice set is one named schema component."""

    def __init__(self, *args, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(*args, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction):
        schema = build_choice_field(self.target)
        schema.pop("x-spec-enum-id", None)
        return schema
