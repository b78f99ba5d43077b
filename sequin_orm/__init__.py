"""sequin-orm: typed active-record models and a unit-of-work Session for Sequin's v1 API."""

from sequin_orm import errors
from sequin_orm.client import Client, configure, get_client
from sequin_orm.consumers import Consumer, HttpConsumer, Message
from sequin_orm.credentials import Credential, Health
from sequin_orm.model import Model, State
from sequin_orm.registry import DynamicModel, model_for
from sequin_orm.results import CommitResult, ObjectOutcome, Outcome, SaveResult
from sequin_orm.secrets import Secret
from sequin_orm.session import Session, current_session
from sequin_orm.streams import Stream
from sequin_orm.syncs import RateLimit, Sync

__all__ = [
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
    "get_client",
    "model_for",
]

__version__ = "0.1.0"
