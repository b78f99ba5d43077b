"""Time formats used by the emulator (records, management objects, providers)."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def iso_micro(moment: datetime) -> str:
    """Record timestamps: ``2024-11-10T18:39:00.070453Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def management(moment: datetime) -> str:
    """Management API timestamps: ``2023-12-15 01:29:29``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def salesforce(moment: datetime) -> str:
    """Salesforce system fields: ``2024-01-01T10:00:00.000+0000``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def iso_milli(moment: datetime) -> str:
    """HubSpot timestamps: ``2024-01-01T10:00:00.000Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
