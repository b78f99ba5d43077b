"""sequin-orm: typed active-record models and a unit-of-work Session for Sequin's v1 API."""

from sequin_orm import errors
from sequin_orm.client import Client, configure, get_client
from sequin_orm.model import Model, State
from sequin_orm.registry import DynamicModel, model_for
from sequin_orm.results import CommitResult, ObjectOutcome, Outcome, SaveResult
from sequin_orm.session import Session, current_session

__all__ = [
    "Client",
    "CommitResult",
    "DynamicModel",
    "Model",
    "ObjectOutcome",
    "Outcome",
    "SaveResult",
    "Session",
    "State",
    "configure",
    "current_session",
    "errors",
    "get_client",
    "model_for",
]

__version__ = "0.1.0"
