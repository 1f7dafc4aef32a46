from rest_framework.renderers import JSONRenderer


class SafeJSONRenderer(JSONRenderer):
    """JSON as UTF-8; a response that echoes a lone surrogate from the request falls back to \\u escapes."""

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)
