"""Model cards and the model store under `W/artifacts/models/`.

A trained model is a folder `W/artifacts/models/<model_id>/` holding the booster (LightGBM text
format), the calibration and risk-model parameters (JSON), `model_card.json`, `model_card.md`
and `manifest.json` (what data, what parameters, what code version). `LATEST` in the models
folder names the model `score` and `alerts` use unless told otherwise.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from dixian import __version__
from dixian.console import to_json
from dixian.errors import NotFound
from dixian.monitor.model import RiskModel

CARD_JSON = "model_card.json"
CARD_MD = "model_card.md"
MANIFEST = "manifest.json"
LATEST = "LATEST"


def models_dir(artifacts_dir: Path) -> Path:
    """The folder holding every trained model of a workspace."""
    return artifacts_dir / "models"


def new_model_id(prefix: str = "risk") -> str:
    """A sortable id: prefix and UTC time to the second."""
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def code_version() -> dict[str, str]:
    """dixian's version and, when run from a git checkout, the commit."""
    version = {"dixian": __version__}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, fixed arguments
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
            timeout=5,
        ).stdout.strip()
        if commit:
            version["git_commit"] = commit
    except (OSError, subprocess.SubprocessError):
        pass
    return version


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """A SHA-256 of a table's content (to say exactly which data trained a model)."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def save_model(
    model: RiskModel,
    *,
    folder: Path,
    card: dict[str, Any],
    manifest: dict[str, Any],
) -> Path:
    """Write the model, its card (JSON and Markdown) and manifest; point LATEST at it."""
    model.save(folder)
    (folder / CARD_JSON).write_text(to_json(card), encoding="utf-8")
    (folder / CARD_MD).write_text(render_card_markdown(card), encoding="utf-8")
    manifest = {**manifest, "code": code_version(), "created_at": datetime.now(UTC).isoformat()}
    (folder / MANIFEST).write_text(to_json(manifest), encoding="utf-8")
    (folder.parent / LATEST).write_text(folder.name + "\n", encoding="utf-8")
    return folder


def resolve_model(artifacts_dir: Path, model_id: str | None = None) -> Path:
    """The folder of a model id, or of the latest model.

    Raises:
        NotFound: no such model, or none trained yet.
    """
    root = models_dir(artifacts_dir)
    if model_id is None:
        pointer = root / LATEST
        if not pointer.is_file():
            raise NotFound(f"{root}: no trained model yet (run 'dixian monitor train')")
        model_id = pointer.read_text(encoding="utf-8").strip()
    folder = root / model_id
    if not folder.is_dir():
        raise NotFound(f"model '{model_id}' not found in {root}")
    return folder


def load_card(folder: Path) -> dict[str, Any]:
    """The JSON model card of a model folder."""
    data: dict[str, Any] = json.loads((folder / CARD_JSON).read_text(encoding="utf-8"))
    return data


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def render_card_markdown(card: dict[str, Any]) -> str:
    """The model card as Markdown, for people."""
    lines = [f"# 风险预警模型卡 Model card: {card.get('model_id', '')}", ""]
    lines += [f"- 目标 Target: {card.get('target', '')}", f"- 数据 Data: {card.get('data', '')}"]
    periods = card.get("periods", {})
    lines += [
        f"- 训练期 Training periods: {', '.join(periods.get('train', []))}",
        f"- 验证期 Validation period: {periods.get('validation', '')}",
        f"- 训练样本 / 验证样本 Rows: {card.get('rows', {}).get('train')} / "
        f"{card.get('rows', {}).get('validation')}",
        f"- 校准 Calibration: {card.get('calibration', {}).get('method')} (out-of-fold log-loss "
        + ", ".join(
            f"{name} {loss:.4f}"
            for name, loss in card.get("calibration", {}).get("losses", {}).items()
        )
        + ")",
        "",
        "## 验证指标 Validation metrics (calibrated, out-of-fold)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    metrics = card.get("metrics", {})
    for key in ("auc", "pr_auc", "ece", "base_rate", "mean_predicted"):
        lines.append(f"| {key} | {_fmt(metrics.get(key))} |")
    for budget, figures in metrics.get("at_budget", {}).items():
        lines.append(
            f"| recall / precision at {budget} alerts | {_fmt(figures.get('recall'))} / "
            f"{_fmt(figures.get('precision'))} |"
        )
    lines += ["", "## 校准曲线 Calibration curve", "", "| mean predicted | observed | n |"]
    lines.append("|---|---|---|")
    for item in card.get("calibration_curve", []):
        lines.append(
            f"| {item['mean_predicted']:.3f} | {item['observed_rate']:.3f} | {item['count']} |"
        )
    lines += ["", "## 特征 Features", "", "| feature | 中文 | cause | monotone | importance |"]
    lines.append("|---|---|---|---|---|")
    importance = card.get("feature_importance", {})
    for feature in card.get("features", []):
        lines.append(
            f"| {feature['name']} | {feature.get('label_zh', '')} | {feature.get('cause', '')} "
            f"| {feature.get('monotone', 0)} | {_fmt(importance.get(feature['name']))} |"
        )
    fairness = card.get("fairness", [])
    if fairness:
        lines += ["", "## 公平性 Fairness (recall at budget by group)", ""]
        lines += [
            "| grouping | group | positives | recall | ratio | gap |",
            "|---|---|---|---|---|---|",
        ]
        for row in fairness:
            lines.append(
                f"| {row['grouping']} | {row['group']} | {row['positives']} | "
                f"{_fmt(row['recall'])} | {_fmt(row['recall_ratio'])} | "
                f"{'⚠' if row['gap'] else ''} |"
            )
    lines.append("")
    return "\n".join(lines)
