"""Typed usage of the mirror's query API: checked by `mypy --strict` and pyright, never run."""

# pyright: reportUnnecessaryTypeIgnoreComment=error

from __future__ import annotations

from typing_extensions import assert_type

import sequin_orm
from sequin_orm import CommitResult
from sequin_orm.mirror import Mirror, QuerySet
from sequin_orm.models import salesforce
from sequin_orm.querying import QuerySetLike


def objects_are_typed() -> None:
    objects = salesforce.Contact.objects
    assert_type(objects.filter(Email="p@arrakis.org").first(), salesforce.Contact | None)
    assert_type(objects.get(Email="p@arrakis.org"), salesforce.Contact)
    assert_type(objects.filter(LastName__in=["A"]), QuerySetLike[salesforce.Contact])
    assert_type(objects.count(), int)
    assert_type(objects.exists(), bool)
    assert_type(objects.upsert([{"Email": "p@arrakis.org"}], key="Email"), CommitResult)
    assert_type(objects.get_or_create(Email="x"), tuple[salesforce.Contact, bool])
    for contact in objects.order_by("-LastName"):
        assert_type(contact, salesforce.Contact)
    email: str | None = objects.first().Email  # type: ignore[union-attr]
    assert_type(email, str | None)


def mirror_queries_are_typed(mirror: Mirror) -> None:
    query = mirror.query(salesforce.Account)
    assert_type(query, QuerySet[salesforce.Account])
    assert_type(query.filter(NumberOfEmployees__gt=10)[:5], QuerySet[salesforce.Account])
    assert_type(query[0], salesforce.Account)
    assert_type(query.with_deleted().get(upstream_id="001"), salesforce.Account)
    sequin_orm.configure(mirror=mirror)
    Mirror("sqlite://", consumer_id=1)  # type: ignore[arg-type]
