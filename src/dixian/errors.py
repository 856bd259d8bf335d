"""The error classes of dixian.

A `UserError` is something the user can fix (bad input, bad config, a refused action):
the CLI prints its message as one line and exits 2; the web maps it to a 4xx. Any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class DixianError(Exception):
    """Base of every error dixian raises on purpose."""

    exit_code: int = 1


class UserError(DixianError):
    """An error the user can fix; reported as one line, exit code 2."""

    exit_code = 2


class ConfigError(UserError):
    """The workspace configuration (dixian.toml) is missing or invalid."""


class WorkspaceError(UserError):
    """The workspace folder is missing, or not a dixian workspace."""


class CatalogError(UserError):
    """The data standard catalog (YAML) is broken."""


class InvalidIdentifier(UserError):
    """A resident ID number or region code is malformed."""


class FeedValidationError(UserError):
    """A department feed cannot be read or mapped to the data standard."""


class PolicyError(UserError):
    """A policy file or rule expression is invalid."""


class PermissionDenied(UserError):
    """The user may not do this."""

    exit_code = 3


class NotFound(UserError):
    """The record does not exist, or is outside the user's jurisdiction."""

    exit_code = 4


class TransitionRefused(UserError):
    """A workflow action is not allowed in the case's current state."""


class ConflictError(UserError):
    """Someone else changed the record first (optimistic locking)."""

    exit_code = 5
