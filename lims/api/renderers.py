import math

from rest_framework.renderers import JSONRenderer


def _finite(data):
    """The data with every infinite or NaN number (a computed value out of float range) as null."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


class SafeJSONRenderer(JSONRenderer):
    """JSON as UTF-8; a response that echoes a lone surrogate from the request falls back to \\u escapes, and
    a computed number outside the float range (a density over a vanishing area) is null, never a 500."""

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)
        except ValueError:  # "Out of range float values are not JSON compliant"
            return super().render(_finite(data), accepted_media_type, renderer_context)
