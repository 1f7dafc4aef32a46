"""Serializers for SOPs: protocols, their versions with typed parameters, and deviations."""

from rest_framework import serializers

from batches.api.serializers import ReasonSerializer, SignatureSerializer
from batches.choices import IntendedUse
from batches.models import SecretomeBatch
from lims.api.serializers import LabOwnedSerializer, QuerySerializer, StrictSerializer
from protocols.models import Deviation, ParameterType, Protocol, ProtocolParameter, ProtocolVersion, VersionStatus

COMMON = ("id", "lab", "created_at", "created_by", "updated_at", "version")


class ProtocolSerializer(LabOwnedSerializer):
    class Meta(LabOwnedSerializer.Meta):
        model = Protocol
        fields = (*COMMON, "code", "title", "category")
        create_only_fields = ("code",)


class ProtocolParameterSerializer(serializers.ModelSerializer):
    name = serializers.RegexField(
        r"^[a-z][a-z0-9_]{0,59}$", max_length=60, help_text="The record field it governs, e.g. conditioning_time_h."
    )
    value_type = serializers.ChoiceField(choices=ParameterType.choices, default=ParameterType.NUMBER)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=100, help_text="Allowed values."
    )

    class Meta:
        model = ProtocolParameter
        fields = ("name", "value_type", "unit", "default", "min_value", "max_value", "choices")
        validators: list = []


class ProtocolVersionSerializer(LabOwnedSerializer):
    number = serializers.IntegerField(read_only=True, help_text="Numbered after the protocol's last version.")
    status = serializers.ChoiceField(
        choices=VersionStatus.choices, read_only=True, help_text="draft → effective (publish) → retired."
    )
    parameters = ProtocolParameterSerializer(
        many=True,
        required=False,
        help_text="Typed parameters. On create they default to the latest version's; a list given replaces them all.",
    )

    class Meta(LabOwnedSerializer.Meta):
        model = ProtocolVersion
        fields = (
            *COMMON,
            "protocol",
            "number",
            "status",
            "body",
            "change_summary",
            "approved_by",
            "approved_at",
            "parameters",
        )
        read_only_fields = (*LabOwnedSerializer.Meta.read_only_fields, "approved_by", "approved_at")
        create_only_fields = ("protocol",)
        extra_kwargs = {
            "body": {"required": False, "help_text": "Procedure in Markdown; defaults to the latest version's."}
        }


class DeviationSerializer(LabOwnedSerializer):
    class Meta(LabOwnedSerializer.Meta):
        model = Deviation
        fields = (
            *COMMON,
            "batch",
            "protocol_version",
            "record_type",
            "record_id",
            "record_label",
            "parameter",
            "expected",
            "actual",
            "justification",
            "status",
            "approved_by",
            "approved_at",
            "closed_at",
        )
        read_only_fields = fields


class JustificationSerializer(StrictSerializer):
    justification = serializers.CharField(max_length=5000, help_text="Why the value departed from the SOP.")


class DiffQuerySerializer(QuerySerializer):
    against = serializers.IntegerField(min_value=1, help_text="Id of the version to compare with.")


class BatchUsageSerializer(serializers.ModelSerializer):
    # Blank until recorded: stated so the schema allows "" as the batch serializer's own does.
    intended_use = serializers.ChoiceField(choices=IntendedUse.choices, allow_blank=True, read_only=True)

    class Meta:
        model = SecretomeBatch
        fields = ("id", "code", "status", "product_type", "intended_use", "collected_at")
        read_only_fields = fields


class RetireSerializer(ReasonSerializer, SignatureSerializer):
    """Why the version is retired, and the reviewer's password: retiring is signed."""
