"""A small FastAPI app writing Salesforce contacts through sequin-orm's async API.

Run it: ``python examples/fastapi_app/app.py`` (uvicorn on http://127.0.0.1:8000, docs at
``/docs``). Without ``SEQUIN_API_TOKEN`` in the environment it first starts the Sequin emulator
(demo seed) on a free loopback port and points the app at it.

Each request that writes has its own ``AsyncSession``: the endpoint adds or changes objects,
and the session commits when its ``async with`` block ends (one mutation request), or raises
``CommitError``, which the handler below turns into a 422 that says why.
"""

from __future__ import annotations

import argparse
import os

import uvicorn  # the server of `python app.py`; the app runs under any ASGI server
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import sequin_orm
from sequin_orm import AsyncClient, AsyncSession
from sequin_orm.emulator import Emulator
from sequin_orm.errors import CommitError
from sequin_orm.models import salesforce


class NewContact(BaseModel):
    first_name: str | None = None
    last_name: str
    email: str | None = None


class ContactChanges(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


class ContactOut(BaseModel):
    upstream_id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None

    @classmethod
    def of(cls, contact: salesforce.Contact) -> ContactOut:
        return cls(
            upstream_id=contact.upstream_id,
            first_name=contact.FirstName,
            last_name=contact.LastName,
            email=contact.Email,
        )


def create_app(client: AsyncClient | None = None) -> FastAPI:
    """The app; ``client`` is the ``AsyncClient`` to write through (default: the one
    ``sequin_orm.configure()`` set up, for the running event loop)."""
    app = FastAPI(title="sequin-orm contacts")

    def sequin() -> AsyncClient:
        return client if client is not None else sequin_orm.get_async_client()

    @app.exception_handler(CommitError)
    async def commit_failed(request: Request, error: CommitError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(error.__cause__ or error)})

    @app.post("/contacts", status_code=201)
    async def create_contact(new: NewContact) -> ContactOut:
        contact = salesforce.Contact(
            FirstName=new.first_name, LastName=new.last_name, Email=new.email
        )
        async with AsyncSession(sequin()) as session:
            session.add(contact)
        return ContactOut.of(contact)

    @app.patch("/contacts/{upstream_id}")
    async def update_contact(upstream_id: str, changes: ContactChanges) -> ContactOut:
        # by id, with no read first: only the fields assigned below are sent
        contact = salesforce.Contact.ref(upstream_id)
        async with AsyncSession(sequin()) as session:
            given = changes.model_dump(exclude_unset=True)
            if "first_name" in given:
                contact.FirstName = changes.first_name
            if "last_name" in given:
                contact.LastName = changes.last_name
            if "email" in given:
                contact.Email = changes.email
            session.add(contact)
        return ContactOut.of(contact)

    @app.get("/contacts")
    async def list_contacts() -> list[ContactOut]:
        contacts = salesforce.Contact.objects.using(sequin()).aiter()
        return [ContactOut.of(contact) async for contact in contacts]

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sequin-orm FastAPI example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if os.environ.get("SEQUIN_API_TOKEN"):
        uvicorn.run(create_app(), host=args.host, port=args.port)
        return 0
    emulator = Emulator(seed="demo")
    with emulator.serve() as url:
        print(f"Sequin emulator (demo seed) on {url}", flush=True)
        sync_id = emulator.seeded["salesforce_sync"]
        sequin_orm.configure(emulator.token, url, syncs={"salesforce": sync_id})
        uvicorn.run(create_app(), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
