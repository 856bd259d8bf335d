"""The commands end to end: own-labels training, and train → score → alerts on a panel."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.monitor.synthetic import synthetic_panel
from tests.conftest import run_cli

from .conftest import make_table


def test_train_on_own_table(workspace: Workspace, tmp_path: Path) -> None:
    data = make_table(5000, seed=21).frame
    data["label"] = data["label"].map({1: "是", 0: "否"})
    path = tmp_path / "survey.csv"
    data.drop(columns=["region_code"]).to_csv(path, index=False, encoding="gbk")
    result = run_cli(
        "monitor", "train", "-w", str(workspace.root), "--table", str(path), "--target", "label",
        "--id-column", "household_id", "--monotone", "medical_oop_share=+1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["auc"] > 0.75
    assert figures["ece"] < 0.05
    folder = Path(figures["model_folder"])
    card = json.loads((folder / "model_card.json").read_text(encoding="utf-8"))
    assert card["kind"] == "table"
    assert card["split"]["kind"] == "random_stratified"
    assert {f["name"] for f in card["features"]} == {
        "income_pc", "medical_oop_share", "job_loss", "disaster_loss_12m", "noise"
    }  # fmt: skip
    assert "## 校准曲线" in (folder / "model_card.md").read_text(encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["code"]["dixian"]


def test_own_table_with_periods_validates_on_the_latest(
    workspace: Workspace, tmp_path: Path
) -> None:
    frames = [make_table(2500, seed=s).frame.assign(year=2022 + s) for s in range(3)]
    path = tmp_path / "panel.parquet"
    pd.concat(frames).to_parquet(path)
    result = run_cli(
        "monitor", "train", "-w", str(workspace.root), "--table", str(path), "--target", "label",
        "--period-column", "year", "--features", "income_pc,medical_oop_share,job_loss", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    card = json.loads(
        (Path(json.loads(result.stdout)["model_folder"]) / "model_card.json").read_text("utf-8")
    )
    assert card["split"] == {"kind": "temporal", "validation_period": "2024"}
    assert card["rows"] == {"train": 5000, "validation": 2500}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "lable"], "no target column 'lable'; did you mean label"),
        (["--target", "noise"], "column 'noise': value"),
        ([], "--table needs --target"),
    ],
)
def test_own_table_errors_are_one_line(
    workspace: Workspace, tmp_path: Path, args: list[str], message: str
) -> None:
    path = tmp_path / "t.csv"
    make_table(200, seed=5).frame.to_csv(path, index=False)
    result = run_cli("monitor", "train", "-w", str(workspace.root), "--table", str(path), *args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


@pytest.fixture
def panel_workspace(workspace: Workspace) -> Workspace:
    panel = synthetic_panel(500, start="2023-01", months=27, seed=9).panel
    open_backend(workspace).create_table("household_period", panel, overwrite=True)
    return workspace


def test_train_score_alerts_on_the_panel(panel_workspace: Workspace) -> None:
    root = str(panel_workspace.root)
    trained = run_cli("monitor", "train", "-w", root, "--step", "2", "--json")
    assert trained.exit_code == 0, trained.stderr
    assert json.loads(trained.stdout)["rows_validation"] > 300
    scored = run_cli("monitor", "score", "-w", root, "--period", "2025-02", "--json")
    assert scored.exit_code == 0, scored.stderr
    assert json.loads(scored.stdout)["households"] == 500

    first = run_cli("monitor", "alerts", "-w", root, "--period", "2025-02", "--budget", "3",
                    "--json")  # fmt: skip
    assert first.exit_code == 0, first.stderr
    second = run_cli("monitor", "alerts", "-w", root, "--period", "2025-03", "--budget", "3",
                     "--json")  # fmt: skip
    assert second.exit_code == 0, second.stderr
    figures = json.loads(second.stdout)
    assert figures["continuing"] > 0
    assert figures["cases"]["created"] + figures["cases"]["already_recorded"] == figures["alerts"]

    backend = open_backend(panel_workspace)
    alerts = backend.table("monitor_alerts").to_pandas()
    current = alerts[(alerts.period == "2025-03") & (alerts.status != "resolved")]
    # The budget holds in every township, except for always-alert triggers.
    per_township = current[~current.always_alert].groupby("jurisdiction").size()
    assert (per_township <= 3).all()
    assert current.reason.str.len().gt(3).all()
    assert set(alerts.period) == {"2025-02", "2025-03"}
    book = openpyxl.load_workbook(Path(figures["xlsx"]))
    assert len(book.sheetnames) == current.jurisdiction.nunique()

    again = run_cli("monitor", "alerts", "-w", root, "--period", "2025-03", "--budget", "3",
                    "--json")  # fmt: skip
    assert json.loads(again.stdout)["cases"]["created"] == 0
    rerun = backend.table("monitor_alerts").to_pandas()
    assert len(rerun) == len(alerts)

    by_risk = run_cli("monitor", "alerts", "-w", root, "--period", "2025-03", "--budget", "3",
                      "--trigger-weight", "0", "--no-cases", "--json")  # fmt: skip
    assert by_risk.exit_code == 0, by_risk.stderr
    ranked = backend.table("monitor_alerts").to_pandas()
    ranked = ranked[(ranked.period == "2025-03") & (ranked.status != "resolved")]
    # At weight 0 a trigger hit adds nothing: the priority is the model's risk.
    assert (ranked.priority - ranked.risk).abs().max() < 1e-12
    assert (current.priority > current.risk + 1e-9).any()


def test_alerts_without_a_panel_is_a_user_error(workspace: Workspace) -> None:
    result = run_cli("monitor", "alerts", "-w", str(workspace.root))
    assert result.exit_code == 2
    assert "household_period" in result.stderr
