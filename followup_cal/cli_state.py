"""Commands about what already happened: outcome, contacted, status (issue 4)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this module's commands to the main group."""
