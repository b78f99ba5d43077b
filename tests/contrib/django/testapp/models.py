from __future__ import annotations

from django.db import models


class Note(models.Model):
    """A row written in the same request as a Sequin change."""

    text = models.CharField(max_length=100)
