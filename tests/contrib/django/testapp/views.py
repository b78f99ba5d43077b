"""Views of the middleware tests. Contacts are named after a ``marker`` query parameter."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from sequin_orm.models import salesforce
from tests.contrib.django.testapp.models import Note

#: Set by a test to hold every request inside its view until all have arrived.
BARRIER: threading.Barrier | None = None
ASYNC_GATE: AsyncGate | None = None


class AsyncGate:
    """An asyncio barrier that also works on Python 3.10: opens once ``parties`` arrived."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.event = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived >= self.parties:
            self.event.set()
        await asyncio.wait_for(self.event.wait(), timeout=10)


def _save_contacts(request: HttpRequest) -> str:
    marker = request.GET.get("marker", "m")
    for i in range(int(request.GET.get("count", "1"))):
        salesforce.Contact(LastName=f"{marker}-{i}").save()
    return marker


def create(request: HttpRequest) -> HttpResponse:
    marker = _save_contacts(request)
    if BARRIER is not None:
        BARRIER.wait(timeout=10)
    return HttpResponse(marker)


async def async_create(request: HttpRequest) -> HttpResponse:
    marker = _save_contacts(request)
    if ASYNC_GATE is not None:
        await ASYNC_GATE.wait()
    else:
        await asyncio.sleep(0)
    return HttpResponse(marker)


async def async_create_then_raise(request: HttpRequest) -> HttpResponse:
    _save_contacts(request)
    raise RuntimeError("boom")


def create_then_raise(request: HttpRequest) -> HttpResponse:
    _save_contacts(request)
    raise RuntimeError("boom")


def create_then_status(request: HttpRequest) -> HttpResponse:
    _save_contacts(request)
    return HttpResponse("no", status=int(request.GET.get("status", "400")))


def create_and_note(request: HttpRequest) -> HttpResponse:
    """A database row and a contact in the same request; ``rollback=1`` rolls the row back."""
    marker = _save_contacts(request)
    Note.objects.create(text=marker)
    if request.GET.get("rollback"):
        transaction.set_rollback(True)
    return HttpResponse(marker)


def partial_rollback(request: HttpRequest) -> HttpResponse:
    """One contact outside any transaction, one in a rolled-back block, one in a committed one."""
    salesforce.Contact(LastName="outside").save()
    try:
        with transaction.atomic():
            Note.objects.create(text="rolled back")
            salesforce.Contact(LastName="rolled-back").save()
            raise ValueError("undo")
    except ValueError:
        pass
    with transaction.atomic():
        Note.objects.create(text="committed")
        salesforce.Contact(LastName="committed").save()
    return HttpResponse("ok")


def mixed(request: HttpRequest) -> HttpResponse:
    """Update the contacts listed in ``update``, delete those in ``delete``, create ``count``."""
    to_update = set(filter(None, request.GET.get("update", "").split(",")))
    to_delete = set(filter(None, request.GET.get("delete", "").split(",")))
    for contact in salesforce.Contact.objects.iter():
        if contact.upstream_id in to_update:
            contact.Title = "Updated"
            contact.save()
        elif contact.upstream_id in to_delete:
            contact.delete()
    _save_contacts(request)
    return HttpResponse("ok")


def explicit_commit(request: HttpRequest) -> HttpResponse:
    _save_contacts(request)
    session: Any = request.sequin_session  # type: ignore[attr-defined]
    result = session.commit()
    return JsonResponse({"summary": result.summary()})
