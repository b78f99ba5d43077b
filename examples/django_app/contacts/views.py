"""Two views: create a Salesforce contact, list the contacts read back from Sequin."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from contacts.forms import ContactForm
from sequin_orm.models import salesforce

MAX_LISTED = 200


def new_contact(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: create the contact and go to the list.

    ``save()`` only enqueues the contact in the request's session; SequinSessionMiddleware
    sends it (one create request) once this view has returned its redirect.
    """
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        salesforce.Contact(
            FirstName=data["first_name"] or None,
            LastName=data["last_name"],
            Email=data["email"] or None,
        ).save()
        return redirect(reverse("contacts:list") + "?created=1")
    return render(request, "contacts/new.html", {"form": form})


def contact_list(request: HttpRequest) -> HttpResponse:
    """The Salesforce contacts of the sync, read back through ``GET /v1/records``."""
    contacts = [c for c in islice(salesforce.Contact.objects.iter(), MAX_LISTED) if not c.deleted]
    return render(
        request,
        "contacts/list.html",
        {"contacts": contacts, "created": request.GET.get("created") == "1"},
    )
