from django.urls import path

from . import views

app_name = "channels"
urlpatterns: list = [
    path("<slug:platform>/", views.webhook, name="webhook"),
]
