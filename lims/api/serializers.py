"""Serializers for lab-owned records: ids for foreign keys, scoped to the user's labs, one lab per record."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from rest_framework import serializers
from rest_framework.relations import PKOnlyObject

from lims import vocabulary
from lims.api.bounds import apply_bounds, model_field_bounds, model_field_pattern
from lims.api.filters import ISO_DATE
from lims.api.scoping import member_lab_ids
from lims.models import Lab, Membership
from lims.plausibility import CODE_MESSAGE, PRINTABLE_CODE, TEXT_LIMIT

User = get_user_model()

VERSION_HELP = "The version you read. A stale version answers 409 with the current one and changes nothing."
REASON_HELP = (
    "Why the record is changed; kept in the audit trail. Required (400 naming `reason`) for a submitted batch "
    "and for the processing steps, aliquots and QC results of a submitted batch."
)


class LabScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """An id of a row in one of the requesting user's labs; any other id reads as 'does not exist'."""

    default_error_messages = {
        "does_not_exist": "No record with id {pk_value} in your labs.",
        "incorrect_type": "Expected an id (a whole number), got {data_type}.",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return queryset.filter(lab_id__in=member_lab_ids(request.user))


class LabField(LabScopedRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Lab.objects.none()
        return Lab.objects.filter(pk__in=member_lab_ids(request.user))


class MemberField(LabScopedRelatedField):
    """A user who is a member of one of the requesting user's labs."""

    default_error_messages = {"does_not_exist": "No member of your labs with id {pk_value}."}

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return User.objects.none()
        return User.objects.filter(
            pk__in=Membership.objects.filter(lab_id__in=member_lab_ids(request.user)).values("user_id")
        )


def _storable_text(text: str) -> bool:
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


def _refuse_unstorable_json(value: Any) -> None:
    """Walk the document without recursion (its depth is the client's choice)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not _storable_text(item):
                raise serializers.ValidationError("Text contains a character that cannot be stored (NUL or surrogate).")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


class StorableJSONField(serializers.JSONField):
    """JSON that PostgreSQL's jsonb can store (no NUL characters, no lone surrogates)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        _refuse_unstorable_json(value)
        return value


NUMBER_FIELDS = (serializers.IntegerField, serializers.FloatField, serializers.DecimalField)


def _json_type_error(field: serializers.Field, value: Any) -> str | None:
    """What is wrong with a JSON value's type for this field (DRF itself would turn 0 into "0")."""
    if value is None or field.read_only:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Expected true or false."
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Expected a whole number."
    if isinstance(field, serializers.FloatField):
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "Expected a number."
    if isinstance(field, serializers.MultipleChoiceField):
        return None if isinstance(value, list) else "Expected a list."
    if isinstance(field, serializers.ChoiceField) and not all(isinstance(key, str) for key in field.choices):
        return None
    if isinstance(field, serializers.DateField) and not isinstance(field, serializers.DateTimeField):
        return None if isinstance(value, str) and ISO_DATE.fullmatch(value) else "Write the day as YYYY-MM-DD."
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        return None if isinstance(value, str) else "Expected a string."
    if isinstance(field, serializers.ListField | serializers.ManyRelatedField | serializers.ListSerializer):
        return None if isinstance(value, list) else "Expected a list."
    return None


class JsonTypesMixin:
    """Takes JSON values of the type the schema states: no 0 for a text, no "3" for a number."""

    def to_internal_value(self, data):
        if type(data) is dict:  # a parsed JSON body; form data and query strings are text by nature
            errors = {}
            for name, field in self.fields.items():
                message = _json_type_error(field, data[name]) if name in data else None
                if message:
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(JsonTypesMixin, serializers.Serializer):
    """An input serializer for a JSON body (an action's reason, password or signature)."""


def _apply_plausible_text(model, source: str, field) -> None:
    """The generic plausibility rules on text (lims.plausibility) as validators, so the schema states them:
    a code is printable on labels (`pattern`), a long text is bounded (`maxLength`)."""
    try:
        model_field = model._meta.get_field(source)
    except Exception:
        return
    if source == "code" and isinstance(model_field, models.CharField | models.TextField):
        field.validators.append(RegexValidator(PRINTABLE_CODE.pattern, message=CODE_MESSAGE))
    if isinstance(model_field, models.TextField) and (field.max_length is None or field.max_length > TEXT_LIMIT):
        field.max_length = TEXT_LIMIT
        field.validators.append(
            MaxLengthValidator(
                TEXT_LIMIT, message=f"At most {TEXT_LIMIT} characters; attach longer documents as raw data."
            )
        )


class StrictModelSerializer(JsonTypesMixin, serializers.ModelSerializer):
    """A ModelSerializer with JSON types as stated, and the numeric range (and the text pattern) of each model
    field from the rules the database enforces (lims.api.bounds)."""

    def get_fields(self):
        fields = super().get_fields()
        model = self.Meta.model
        for name, field in fields.items():
            source = field.source or name  # fields are bound (source filled in) only after get_fields
            vocabulary.describe(model, source, field)  # the label and help the pages use
            if field.read_only or "." in source:
                continue
            if isinstance(field, NUMBER_FIELDS):
                bounds = model_field_bounds(model, source)
                if bounds is not None:
                    apply_bounds(field, bounds)
            elif isinstance(field, serializers.CharField):
                pattern = model_field_pattern(model, source)
                if pattern is not None:
                    field.validators.append(RegexValidator(pattern[0], message=pattern[1]))
                _apply_plausible_text(model, source, field)
        return fields


class QuerySerializer(serializers.Serializer):
    """Query parameters read with a serializer: a parameter that is present holds a value (`?format=` is a
    mistake to report, where DRF would take it for the default)."""

    def to_internal_value(self, data):
        blank = [name for name in self.fields if name in data and data.get(name) == ""]
        if blank:
            raise serializers.ValidationError({name: ["Give a value, or leave the parameter out."] for name in blank})
        return super().to_internal_value(data)


class LabOwnedSerializer(StrictModelSerializer):
    """Base for every lab-owned record.

    `lab` may be omitted on create when the user belongs to one lab. Every foreign key must point to
    a row of the same lab (and a user foreign key to a member of it), else 400 naming the field.
    """

    lab = LabField(
        required=False,
        help_text="The lab that owns the record; may be omitted when you belong to one lab. Fixed once created.",
    )
    version = serializers.IntegerField(read_only=True, help_text="Incremented on every change.")

    serializer_related_field = LabScopedRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.JSONField: StorableJSONField,
    }

    class Meta:
        # Uniqueness and constraints are checked by the services against the resolved lab.
        validators: list = []
        read_only_fields = ("created_at", "created_by", "updated_at")

    # Plain values (model columns, annotations, properties) whose DRF representation needs only the value:
    # read them straight from the instance instead of through DRF's per-field attribute lookup.
    _PLAIN_FIELDS = (
        serializers.CharField,
        serializers.ChoiceField,
        serializers.IntegerField,
        serializers.FloatField,
        serializers.BooleanField,
        serializers.DateTimeField,
        serializers.DateField,
    )

    def _representation_plan(self) -> list[tuple[serializers.Field, str | None, bool]]:
        """(field, attribute to read or None for DRF's own path, whether the value is already the id)."""
        plan = getattr(self, "_plan", None)
        if plan is None:
            model_fields = {f.name: f for f in self.Meta.model._meta.concrete_fields}
            plan = []
            for field in self._readable_fields:
                source = field.source_attrs[0] if len(field.source_attrs) == 1 else None
                if (
                    isinstance(field, serializers.PrimaryKeyRelatedField)
                    and field.pk_field is None
                    and source in model_fields
                    and model_fields[source].is_relation
                ):
                    plan.append((field, model_fields[source].attname, True))
                elif (
                    source
                    and isinstance(field, self._PLAIN_FIELDS)
                    and not isinstance(field, serializers.SerializerMethodField | serializers.ManyRelatedField)
                ):
                    plan.append((field, source, False))
                else:
                    plan.append((field, None, False))
            self._plan = plan
        return plan

    def to_representation(self, instance) -> dict[str, Any]:
        """The same output as DRF's Serializer.to_representation, a few times faster on long lists."""
        ret: dict[str, Any] = {}
        missing = object()
        for field, attribute_name, is_id in self._representation_plan():
            value = missing if attribute_name is None else getattr(instance, attribute_name, missing)
            if value is missing:
                try:
                    attribute = field.get_attribute(instance)
                except serializers.SkipField:
                    continue
                check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                ret[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
            elif value is None or is_id:
                ret[field.field_name] = value
            elif callable(value):
                ret[field.field_name] = field.to_representation(value())
            else:
                ret[field.field_name] = field.to_representation(value)
        return ret

    def build_relational_field(self, field_name, relation_info):
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        if relation_info.related_model is User:
            return MemberField, kwargs
        if relation_info.related_model is Lab:
            return LabField, kwargs
        return field_class, kwargs

    def _requesting_user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _resolve_lab(self, attrs: dict[str, Any]) -> Lab:
        if self.instance is not None:
            return self.instance.lab
        if attrs.get("lab") is not None:
            return attrs["lab"]
        labs = list(Lab.objects.filter(pk__in=member_lab_ids(self._requesting_user()))[:2])
        if len(labs) == 1:
            return labs[0]
        if not labs:
            raise serializers.ValidationError({"lab": ["You are not a member of any lab."]})
        raise serializers.ValidationError({"lab": ["You belong to several labs; say which one owns the record."]})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        lab = self._resolve_lab(attrs)
        if self.instance is None:
            attrs["lab"] = lab
        errors: dict[str, list[str]] = {}
        for name, value in attrs.items():
            if name == "lab" or not isinstance(value, models.Model):
                continue
            if isinstance(value, User):
                if not Membership.objects.filter(user=value, lab=lab).exists():
                    errors[name] = [f"User {value.pk} is not a member of lab '{lab}'."]
            elif getattr(value, "lab_id", lab.pk) != lab.pk:
                errors[name] = [f"{value._meta.verbose_name.capitalize()} {value.pk} belongs to another lab."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class _VersionRequired:
    """Even a partial update names the version it was based on; `reason` is kept aside for the audit trail."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "version" not in attrs:
            raise serializers.ValidationError({"version": ["Send the version you read: " + VERSION_HELP]})
        reason = attrs.pop("reason", None)
        attrs = super().validate(attrs)
        if reason is not None:
            attrs["reason"] = reason
        return attrs


_UPDATE_SERIALIZERS: dict[type, type] = {}


def update_serializer_for(serializer_class: type[LabOwnedSerializer]) -> type[LabOwnedSerializer]:
    """The same serializer with `version` required and the lab (and any `create_only_fields`) fixed.

    `create_only_fields` must be model fields the serializer generates, not declared ones.
    """
    if serializer_class not in _UPDATE_SERIALIZERS:
        meta = serializer_class.Meta
        create_only = tuple(getattr(meta, "create_only_fields", ()))
        attrs: dict[str, Any] = {
            "__module__": serializer_class.__module__,
            "__doc__": serializer_class.__doc__,
            "version": serializers.IntegerField(min_value=1, max_value=2_147_483_647, help_text=VERSION_HELP),
            "lab": serializers.PrimaryKeyRelatedField(read_only=True, help_text="The lab that owns the record."),
            "reason": serializers.CharField(
                write_only=True, required=False, allow_blank=True, max_length=2000, help_text=REASON_HELP
            ),
            "Meta": type(
                "Meta",
                (meta,),
                {
                    "fields": (*meta.fields, "reason"),
                    "read_only_fields": (*getattr(meta, "read_only_fields", ()), *create_only),
                },
            ),
        }
        name = serializer_class.__name__.removesuffix("Serializer") + "UpdateSerializer"
        _UPDATE_SERIALIZERS[serializer_class] = type(name, (_VersionRequired, serializer_class), attrs)
    return _UPDATE_SERIALIZERS[serializer_class]


class HistoryEventSerializer(serializers.Serializer):
    """One entry of the trigger-based audit trail of a row."""

    id = serializers.CharField(source="pgh_slug", help_text="Unique id of the event.")
    at = serializers.DateTimeField(source="pgh_created_at")
    label = serializers.CharField(source="pgh_label", help_text="insert, update or delete.")
    data = serializers.DictField(source="pgh_data", help_text="The row as it was after the event.")
    diff = serializers.DictField(
        source="pgh_diff", allow_null=True, help_text="Changed fields: {field: [before, after]}."
    )
    context = serializers.DictField(
        source="pgh_context", allow_null=True, help_text="Who and through what: user id, reason, request or task."
    )
