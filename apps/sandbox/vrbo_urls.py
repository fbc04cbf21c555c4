from django.urls import path

from . import vrbo

app_name = "sandbox_vrbo"
urlpatterns = [
    path("listings/<str:listing_id>/crawl", vrbo.crawl_view, name="crawl"),
    path("listings/<str:listing_id>/book", vrbo.book_view, name="book"),
    path("listings/<str:listing_id>/quote", vrbo.quote_view, name="quote"),
]
