"""URLs of the demo site: the contacts app at the root."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("contacts.urls"))]
