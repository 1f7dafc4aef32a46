from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import datetime
from functools import partial

from django.core.paginator import Paginator
from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

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


def encode_cursor(row) -> str:
    """A row's place in a list ordered newest first (created_at, then id, both descending)."""
    return urlsafe_b64encode(f"{row.created_at.isoformat()}|{row.pk}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, int]:
    """(created_at, id) of a cursor encode_cursor() gave; ValueError for anything else."""
    if not raw or len(raw) > 100 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in raw):
        raise ValueError(raw)
    try:
        created_at, pk = urlsafe_b64decode(raw.encode("ascii") + b"==").decode("ascii").split("|")
    except UnicodeError:
        raise ValueError(raw) from None
    moment = datetime.fromisoformat(created_at)
    if moment.tzinfo is None or not 1 <= int(pk) <= 2**63 - 1:
        raise ValueError(raw)
    return moment, int(pk)


def after_cursor(queryset, raw: str):
    """The rows of a queryset ordered newest first that come after the cursor `raw`."""
    created_at, pk = decode_cursor(raw)
    return queryset.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))


def keyset_page(queryset, raw: str | None, size: int) -> tuple[list, object | None]:
    """A page of `size` rows of a queryset ordered newest first, after the cursor `raw` (from the start when
    None), and its last row when more rows follow (None on the last page); ValueError for a bad cursor."""
    rows = list((queryset if raw is None else after_cursor(queryset, raw))[: size + 1])
    return rows[:size], (rows[size - 1] if len(rows) > size else None)


class KnownCountPaginator(Paginator):
    """Django's paginator, given the number of rows when the view knows it without counting them."""

    def __init__(self, object_list, per_page, *, known_count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if known_count is not None:
            self.__dict__["count"] = known_count  # what the cached `count` property would have computed


class KeysetPagination(LabPagination):
    """LabPagination, plus `?after=` (keyset pagination) for lists in the default order, newest first.

    Every page answers `next_cursor`, the place after its last row (null on the last page). Passing it back
    as `?after=` gives the next rows in the same order without counting the list or skipping the rows
    before (an OFFSET): the cost of a page stays that of its rows however many the list holds. Such a
    page has `count` null and no `previous`; `?page=` pages keep counting as before.
    """

    cursor_query_param = "after"
    keyset = ("created_at", "id")  # the default ordering is both fields descending
    known_count: int | None = None  # set by a view that knows the size of the whole list (kept counts)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.after = request.query_params.get(self.cursor_query_param)
        if self.after is None:
            self.django_paginator_class = partial(KnownCountPaginator, known_count=self.known_count)
            rows = super().paginate_queryset(queryset, request, view)
            self.last = rows[-1] if rows and self.page.has_next() else None
            return rows
        if tuple(queryset.query.order_by) != tuple(f"-{name}" for name in self.keyset):
            raise ValidationError({self.cursor_query_param: ["Only for the default order (no `ordering`)."]})
        try:
            rows, self.last = keyset_page(queryset, self.after, self.get_page_size(request))
        except ValueError:
            raise ValidationError({self.cursor_query_param: ["Not a cursor this list gave (`next_cursor`)."]}) from None
        return rows

    def get_next_link(self):
        if self.after is None:
            return super().get_next_link()
        if self.last is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, encode_cursor(self.last))

    def get_paginated_response(self, data):
        cursor = encode_cursor(self.last) if self.last is not None else None
        if self.after is None:
            response = super().get_paginated_response(data)
            response.data["next_cursor"] = cursor
            return response
        return Response(
            {"count": None, "next": self.get_next_link(), "previous": None, "next_cursor": cursor, "results": data}
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["nullable"] = True
        response["properties"]["next_cursor"] = {
            "type": "string",
            "nullable": True,
            "description": "Pass as `?after=` for the next page without counting (null on the last page).",
        }
        return response

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "A page's `next_cursor`: the rows after it, newest first, without a count.",
                "schema": {"type": "string", "maxLength": 100, "pattern": "^[A-Za-z0-9_-]+$"},
            },
        ]
