"""sequin-orm: typed active-record models and a unit-of-work Session for Sequin's v1 API.

The modules form layers; each imports only the layers below it (an import-linter contract in
``make test`` keeps it so, imports inside functions included)::

    integrations   contrib, testing, cli, codegen
    facade         client            Client / AsyncClient over a requestor, configure()
    mirror         mirror            your own database of the records (SQLAlchemy), queries
    resources      syncs, streams, consumers, proxy, credentials
                   registry, models  model_for(); the generated model modules
    model          model             Model(Record): save(), delete(), objects
                   reading           Model.objects: pages /v1/records
    session        session           Session, AsyncSession: the unit of work
                   drivers           the sync and async loops that send a commit's requests
    HTTP           requestor         a client's settings, APICall, the default clients
                   querying          what the lower layers know of a mirror (a Protocol)
                   http              one pooled httpx client (or async one), auth, deadlines
    unit of work   flow              CommitFlow: the commit as a pure state machine
                   plan, identity    the requests of a commit; the identity map
    records        record, fields    values, changed keys, typed Field descriptors
    protocol       wire, codec, records, secrets, retry, progress, config, results, errors

The emulator (``sequin_orm.emulator``) imports none of these; only integrations import it.
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from sequin_orm import errors
    from sequin_orm.client import AsyncClient, Client, configure, get_async_client, get_client
    from sequin_orm.consumers import AsyncConsumer, AsyncMessage, Consumer, HttpConsumer, Message
    from sequin_orm.credentials import Credential, Health
    from sequin_orm.model import Model, State
    from sequin_orm.registry import DynamicModel, model_for
    from sequin_orm.results import CommitResult, ObjectOutcome, Outcome, SaveResult
    from sequin_orm.secrets import Secret
    from sequin_orm.session import AsyncSession, Session, current_session
    from sequin_orm.streams import Stream
    from sequin_orm.syncs import RateLimit, Sync

# Every public name loads on first use (PEP 562): ``import sequin_orm`` alone imports nothing
# heavy (the pytest plugin lives in this package), and the management modules (and cattrs)
# load only when a program uses them.
_LAZY = {
    "AsyncClient": "sequin_orm.client",
    "AsyncConsumer": "sequin_orm.consumers",
    "AsyncMessage": "sequin_orm.consumers",
    "AsyncSession": "sequin_orm.session",
    "get_async_client": "sequin_orm.client",
    "Client": "sequin_orm.client",
    "configure": "sequin_orm.client",
    "get_client": "sequin_orm.client",
    "Consumer": "sequin_orm.consumers",
    "HttpConsumer": "sequin_orm.consumers",
    "Message": "sequin_orm.consumers",
    "Credential": "sequin_orm.credentials",
    "Health": "sequin_orm.credentials",
    "Model": "sequin_orm.model",
    "State": "sequin_orm.model",
    "DynamicModel": "sequin_orm.registry",
    "model_for": "sequin_orm.registry",
    "CommitResult": "sequin_orm.results",
    "ObjectOutcome": "sequin_orm.results",
    "Outcome": "sequin_orm.results",
    "SaveResult": "sequin_orm.results",
    "Secret": "sequin_orm.secrets",
    "Session": "sequin_orm.session",
    "current_session": "sequin_orm.session",
    "Stream": "sequin_orm.streams",
    "RateLimit": "sequin_orm.syncs",
    "Sync": "sequin_orm.syncs",
    "errors": "sequin_orm.errors",
}

__all__ = [
    "AsyncClient",
    "AsyncConsumer",
    "AsyncMessage",
    "AsyncSession",
    "Client",
    "CommitResult",
    "Consumer",
    "Credential",
    "DynamicModel",
    "Health",
    "HttpConsumer",
    "Message",
    "Model",
    "ObjectOutcome",
    "Outcome",
    "RateLimit",
    "SaveResult",
    "Secret",
    "Session",
    "State",
    "Stream",
    "Sync",
    "configure",
    "current_session",
    "errors",
    "get_async_client",
    "get_client",
    "model_for",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if module == f"{__name__}.{name}" else getattr(loaded, name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
