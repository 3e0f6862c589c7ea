"""Database layer: models, change-feed triggers, engines, seeding and migrations."""
from __future__ import annotations
