"""URLs of the contacts app."""

from __future__ import annotations

from django.urls import path

from contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.new_contact, name="new"),
    path("contacts/", views.contact_list, name="list"),
]
