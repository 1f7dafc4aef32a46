from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

INT_MAX = 2**31 - 1


class LabPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (a whole number from 1; more than 200 gives 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= INT_MAX):
            raise ValidationError({self.page_size_query_param: ["Give a whole number of rows per page, from 1."]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1, "maximum": INT_MAX},
            self.page_size_query_param: {"minimum": 1, "maximum": INT_MAX},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
