"""Forms for SOPs: a protocol, and a draft version's text and typed parameters (one row per parameter)."""

from django import forms

from protocols.models import ParameterType, ProtocolCategory


class ProtocolForm(forms.Form):
    code = forms.CharField(max_length=40, help_text="SOP code, e.g. SOP-CM-002.")
    title = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=ProtocolCategory.choices)


class DraftForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 12}), help_text="The procedure, in Markdown.")
    change_summary = forms.CharField(max_length=300, required=False, help_text="What changed from the last version.")


class ParameterForm(forms.Form):
    name = forms.CharField(max_length=60, required=False, help_text="The record field it governs, e.g. mwco_kda.")
    value_type = forms.ChoiceField(choices=ParameterType.choices, initial=ParameterType.NUMBER)
    unit = forms.CharField(max_length=20, required=False)
    default = forms.CharField(max_length=60, required=False)
    min_value = forms.FloatField(required=False)
    max_value = forms.FloatField(required=False)
    choices = forms.CharField(max_length=500, required=False, help_text="Comma-separated, for a choice parameter.")

    def as_parameter(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        return {
            "name": data["name"],
            "value_type": data["value_type"],
            "unit": data.get("unit") or "",
            "default": data.get("default") or "",
            "min_value": data.get("min_value"),
            "max_value": data.get("max_value"),
            "choices": [c.strip() for c in (data.get("choices") or "").split(",") if c.strip()],
        }


ParameterFormSet = forms.formset_factory(ParameterForm, extra=2, max_num=60)
