"""The generated ``__init__`` (constructor.py) is attrs' ``__init__`` plus the post-init hook.

Each test class is constructed both ways: through attrs' own ``__init__`` (kept by the wrapper
installed before the first construction) and through the generated one.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import pytest
from attrs import define, field
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sequin_orm import Model
from sequin_orm.constructor import compile_init
from sequin_orm.errors import FieldTypeError
from sequin_orm.fields import meta
from sequin_orm.model import model_fields
from sequin_orm.registry import BUNDLED_PROVIDERS


@define(kw_only=True, eq=False, field_transformer=model_fields)
class Gadget(Model):
    collection_id: ClassVar[str] = "salesforce:gadget__c"
    provider: ClassVar[str] = "salesforce"

    Id: str | None = field(default=None, init=False, metadata=meta(read_only=True))
    Name: str | None = field(default=None, metadata=meta(required=True))
    Count__c: int = 0
    Active__c: bool | None = None
    Price__c: float | None = None
    Since__c: datetime.date | None = None
    Seen__c: datetime.datetime | None = None
    Tags__c: list[str] = field(factory=list)
    Serial__c: str = field(init=False, default="unset")
    Parent__c: str | Gadget | None = field(
        default=None, metadata=meta(references="salesforce:gadget__c")
    )


_ATTRS_INIT: Callable[..., None] = Gadget.__init__.__wrapped__  # type: ignore[attr-defined]


def _slots(obj: Model) -> dict[str, Any]:
    """Every slot of ``obj`` (the bare ones of parsed-on-read dates included)."""
    names = {n for cls in type(obj).__mro__ for n in getattr(cls, "__slots__", ())}
    missing = object()
    return {n: getattr(obj, n, missing) for n in sorted(names) if n != "__weakref__"}


def _both_ways(**kwargs: Any) -> tuple[Any, Any]:
    """What each ``__init__`` made of ``kwargs``: the slots, or the error raised."""
    made = []
    for init in (_ATTRS_INIT, Gadget.__init__):
        obj = Gadget.__new__(Gadget)
        try:
            init(obj, **kwargs)
        except (FieldTypeError, TypeError) as error:
            made.append((type(error), str(error).replace("__init__()", "")))
        else:
            made.append(_slots(obj))
    return made[0], made[1]


def test_the_first_construction_installs_the_generated_init() -> None:
    Gadget(Name="first")
    assert Gadget.__init__.__code__.co_filename.startswith("<sequin_orm __init__")
    assert inspect.signature(Gadget) == inspect.signature(_ATTRS_INIT).replace(
        parameters=list(inspect.signature(_ATTRS_INIT).parameters.values())[1:]
    )


values = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.dates(),
    st.datetimes(),
    st.lists(st.text(max_size=3), max_size=2),
)
names = st.sampled_from(
    [a.name for a in attrs.fields(Gadget) if a.init] + ["Serial__c", "Id", "Nope"]
)


@settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(names, values, max_size=6))
def test_any_arguments_give_the_same_object_or_the_same_error(kwargs: dict[str, Any]) -> None:
    by_attrs, generated = _both_ways(**kwargs)
    assert generated == by_attrs


def test_defaults_factories_and_errors_match_attrs() -> None:
    for kwargs in [
        {},
        {"Name": "x", "Count__c": 3, "Tags__c": ["a"], "Since__c": datetime.date(2024, 1, 2)},
        {"Count__c": None},
        {"Since__c": "2024-01-02"},
        {"Parent__c": Gadget(Name="parent")},
        {"Parent__c": 12},
        {"Id": "a01"},
    ]:
        by_attrs, generated = _both_ways(**kwargs)
        assert generated == by_attrs, kwargs
    first, second = Gadget(), Gadget()
    assert first.Tags__c == [] and first.Tags__c is not second.Tags__c
    with pytest.raises(FieldTypeError, match="Count__c takes int, got NoneType"):
        Gadget(Count__c=None)  # type: ignore[arg-type]
    assert Gadget(Name="n").is_new


@define(kw_only=True, eq=False, field_transformer=model_fields)
class Hooked(Model):
    collection_id: ClassVar[str] = "salesforce:hooked__c"
    provider: ClassVar[str] = "salesforce"

    Name: str | None = None
    calls: ClassVar[list[str]] = []

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        Hooked.calls.append("post")


@define(kw_only=True, eq=False, field_transformer=model_fields)
class Validated(Model):
    collection_id: ClassVar[str] = "salesforce:validated__c"
    provider: ClassVar[str] = "salesforce"

    Name: str | None = field(default=None, validator=attrs.validators.max_len(3))


def test_classes_attrs_does_more_for_keep_attrs_init() -> None:
    Hooked(Name="a")
    assert Hooked.calls == ["post"] and compile_init(Hooked) is None
    assert not Hooked.__init__.__code__.co_filename.startswith("<sequin_orm")
    with pytest.raises(ValueError):
        Validated(Name="long")
    assert compile_init(Validated) is None


def test_every_bundled_model_gets_the_generated_init() -> None:
    for provider in sorted(BUNDLED_PROVIDERS):
        module = importlib.import_module(f"sequin_orm.models.{provider}")
        for name in module.__all__:
            cls = getattr(module, name)
            if not (isinstance(cls, type) and issubclass(cls, Model)):
                continue
            obj = cls()
            assert cls.__init__.__code__.co_filename.startswith("<sequin_orm __init__"), name
            assert obj.is_new, name
            for a in attrs.fields(cls):
                default = a.default.factory() if isinstance(a.default, attrs.Factory) else a.default  # type: ignore[arg-type]
                assert getattr(obj, a.name) == default, (name, a.name)
                if a.init:
                    with pytest.raises(FieldTypeError):
                        cls(**{a.name: object()})
