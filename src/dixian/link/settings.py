"""Linkage settings of a workspace (`W/link.yaml`, optional; defaults otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dixian.errors import ConfigError

SETTINGS_FILE = "link.yaml"


class LinkSettings(BaseModel):
    """How `dixian link` decides.

    Attributes:
        target_precision: expected precision of automatically accepted probabilistic
            links; the accept threshold is derived from it (see `dixian.link.thresholds`).
        target_recall: expected share of true links kept for acceptance or clerical
            review; the reject threshold is derived from it.
        flavour: "chinese" comparisons (default) or the "plain" Splink baseline.
        training_profiles: at most this many identity profiles are sampled to train.
        seed: seed of every sample, so runs are reproducible.
        u_sample_pairs: random pairs sampled to estimate the u probabilities.
        context_stability: a dataset's field is context (see `dixian.link.context`) when
            its value never changes across the rows of at least this share of the ID
            numbers that appear more than once.
        context_min_persons: fewer repeated ID numbers than this in a dataset: no field
            of it is trusted as context.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_precision: float = Field(default=0.995, gt=0.5, le=1)
    target_recall: float = Field(default=0.999, gt=0.5, le=1)
    flavour: Literal["chinese", "plain"] = "chinese"
    training_profiles: int = Field(default=300_000, ge=100)
    seed: int = 20260101
    u_sample_pairs: float = Field(default=1e6, ge=1e4)
    context_stability: float = Field(default=0.95, gt=0.5, le=1)
    context_min_persons: int = Field(default=30, ge=2)


def load_link_settings(root: Path) -> LinkSettings:
    """Read `link.yaml` of a workspace, or the defaults when it is absent."""
    path = root / SETTINGS_FILE
    if not path.is_file():
        return LinkSettings()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return LinkSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc
