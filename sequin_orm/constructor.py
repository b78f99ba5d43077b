"""A generated ``__init__`` for model classes built with ``model_fields`` (no I/O).

attrs' ``__init__`` assigns each field (39 for a Salesforce contact) through
``object.__setattr__``, and ``Model.__attrs_post_init__`` then reads every slot back to check
its type. The ``__init__`` made here sets each slot through the slot's own C setter and checks
the arguments as it goes: about half the cost. It is attrs' ``__init__`` followed by the
post-init hook, with the same signature, defaults, errors and resulting state.

A class gets it at its first construction: its field table needs the class's type hints,
which may name classes defined after it. A class for which attrs' ``__init__`` does anything
more (validators, converters, its own pre- or post-init hook, aliases, positional fields,
fields without a slot) keeps attrs' one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from sequin_orm.fields import slot_of, specs_of

if TYPE_CHECKING:
    from sequin_orm.model import Model

__all__ = ["install"]


def install(cls: type[Model]) -> None:
    """Replace ``cls.__init__`` by the generated one at the class's first construction.

    Only an ``__init__`` attrs generated is replaced, never one the class defines itself.
    """
    attrs_init = cls.__dict__.get("__init__")
    code = getattr(attrs_init, "__code__", None)
    if attrs_init is None or code is None or not code.co_filename.startswith("<attrs generated"):
        return

    @functools.wraps(attrs_init)
    def first_init(self: Model, *args: Any, **kwargs: Any) -> None:
        init = compile_init(cls)
        if init is None:
            init = attrs_init
        else:
            init.__annotations__ = dict(attrs_init.__annotations__)  # for inspect.signature()
        if cls.__dict__.get("__init__") is first_init:
            type.__setattr__(cls, "__init__", init)
        init(self, *args, **kwargs)

    type.__setattr__(cls, "__init__", first_init)


def compile_init(cls: type) -> Callable[..., None] | None:
    """The generated ``__init__`` of ``cls``, or None when attrs' one must stay."""
    from sequin_orm import model

    spec = specs_of(cls)
    if not spec.direct_init or not _plain(cls, model.Model):
        return None
    fields = attrs.fields(cls)
    setters = [slot_of(cls, a.name) for a in fields]
    if any(s is None for s in setters) or not all(_simple(a) for a in fields):
        return None
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_NOTHING": attrs.NOTHING,  # what attrs' signature shows for a factory default
        "_NEW": model.NEW,
        "_set_state": model._set_state,
        "_raise_type_error": model._raise_type_error,
    }
    params: list[str] = []
    body = [f"    _meta{i}(self, None)" for i in range(len(model._NONE_SETTERS))]
    namespace.update({f"_meta{i}": s for i, s in enumerate(model._NONE_SETTERS)})
    checks: list[str] = []
    nullable_checks: list[str] = []
    for index, (a, field, slot) in enumerate(zip(fields, spec.fields, setters, strict=True)):
        namespace[f"_set_{index}"] = slot.__set__
        namespace[f"_field_{index}"] = field
        value = _value(a, index, namespace, params, body)
        if value is None:
            continue
        body.append(f"    _set_{index}(self, {value})")
        if field.types is not None:
            namespace[f"_types_{index}"] = field.types
            checks.append(
                f"    if {value} is not None and not isinstance({value}, _types_{index}):\n"
                f"        _raise_type_error(_cls, _field_{index}, {value})"
            )
        if not field.nullable:
            nullable_checks.append(
                f"    if {value} is None:\n        _raise_type_error(_cls, _field_{index}, None)"
            )
    signature = ", ".join(["self", "*", *params]) if params else "self"
    end = "    _set_state(self, _NEW)"
    source = "\n".join(
        [f"def __init__({signature}) -> None:", *body, *checks, *nullable_checks, end]
    )
    exec(compile(source, f"<sequin_orm __init__ of {cls.__qualname__}>", "exec"), namespace)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _value(
    a: attrs.Attribute[Any],
    index: int,
    namespace: dict[str, Any],
    params: list[str],
    body: list[str],
) -> str | None:
    """The expression a field's slot is set to (adding its parameter or its default to the
    code); None: attrs leaves the slot unset."""
    default = a.default
    factory = _factory(a)
    if factory is not None:
        namespace[f"_factory_{index}"] = factory
    if not a.init:
        if default is attrs.NOTHING:
            return None
        if factory is not None:
            body.append(f"    {a.name} = _factory_{index}()")
        else:
            namespace[f"_default_{index}"] = default
            body.append(f"    {a.name} = _default_{index}")
        return a.name
    if default is attrs.NOTHING:
        params.append(a.name)
    elif factory is not None:
        params.append(f"{a.name}=_NOTHING")
        body.append(f"    if {a.name} is _NOTHING:\n        {a.name} = _factory_{index}()")
    else:
        namespace[f"_default_{index}"] = default
        params.append(f"{a.name}=_default_{index}")
    return a.name


def _plain(cls: type, base: type) -> bool:
    """Whether ``cls`` uses ``base``'s own pre- and post-init hooks."""
    return all(
        getattr(cls, hook) is base.__dict__[hook]
        for hook in ("__attrs_pre_init__", "__attrs_post_init__")
    )


def _simple(a: attrs.Attribute[Any]) -> bool:
    """A field attrs' ``__init__`` only assigns: keyword-only, no validator, converter or alias."""
    default: Any = a.default
    return (
        a.validator is None
        and a.converter is None
        and (a.kw_only or not a.init)
        and a.alias == a.name
        and not (isinstance(default, attrs.Factory) and default.takes_self)  # type: ignore[arg-type]
    )


def _factory(a: attrs.Attribute[Any]) -> Callable[[], Any] | None:
    default: Any = a.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        factory: Callable[[], Any] = default.factory
        return factory
    return None
