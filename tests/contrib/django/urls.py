"""URLconf of the Django integration tests."""

from __future__ import annotations

from django.urls import path

from tests.contrib.django.testapp import views

urlpatterns = [
    path("create/", views.create),
    path("async-create/", views.async_create),
    path("async-raise/", views.async_create_then_raise),
    path("raise/", views.create_then_raise),
    path("status/", views.create_then_status),
    path("note/", views.create_and_note),
    path("partial/", views.partial_rollback),
    path("mixed/", views.mixed),
    path("explicit/", views.explicit_commit),
]
