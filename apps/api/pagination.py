"""Page-number pagination; every list is ordered with a unique tie-breaker (see ``filters``)."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class StablePageNumberPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
