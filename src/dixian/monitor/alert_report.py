"""What a period's alert list tells the townships: each alert's status, and the workbook.

Status. Against the previous period's alerts each alert is `new` or `continuing`; households
alerted last period and not now are listed as `resolved`. The workbook (XLSX) has one sheet per
jurisdiction, in Chinese, for the township's caseworkers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

STATUS_ZH = {"new": "新增", "continuing": "持续", "resolved": "已解除"}


def alert_status(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Mark current alerts new/continuing and append last period's alerts that ended.

    Args:
        current: this period's alerts (rows with alerted True), with household_id.
        previous: last period's alerts (household_id, and any columns to carry), or None.

    Returns:
        current with a `status` column, plus `resolved` rows for households no longer alerted.
    """
    before = set() if previous is None else set(previous["household_id"].astype(str))
    out = current.copy()
    out["status"] = np.where(out["household_id"].astype(str).isin(before), "continuing", "new")
    if previous is not None and not previous.empty:
        now = set(out["household_id"].astype(str))
        ended = previous[~previous["household_id"].astype(str).isin(now)].copy()
        if not ended.empty:
            ended["status"] = "resolved"
            ended["alerted"] = False
            out = pd.concat([out, ended[[c for c in ended.columns if c in out.columns]]])
    return out.reset_index(drop=True)


_XLSX_COLUMNS = [
    ("rank", "排名"),
    ("status_zh", "预警状态"),
    ("household_id", "户编号"),
    ("region_code", "村级区划代码"),
    ("risk", "返贫致贫风险概率"),
    ("primary_cause_zh", "主要风险类型"),
    ("secondary_cause_zh", "次要风险类型"),
    ("reason", "原因说明"),
    ("trigger_text", "触发预警条件"),
]


def export_alerts_xlsx(alerts: pd.DataFrame, path: Path, *, title: str) -> int:
    """Write the alerts as an XLSX workbook, one sheet per jurisdiction (township).

    Args:
        alerts: alert rows with the columns of `_XLSX_COLUMNS` (missing ones left blank) and
            `jurisdiction`.
        path: the workbook to write.
        title: a title line written above each sheet's table.

    Returns:
        The number of sheets written.
    """
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    table = alerts.copy()
    table["status_zh"] = table.get("status", pd.Series("new", index=table.index)).map(STATUS_ZH)
    table["trigger_text"] = [
        "；".join(labels) if isinstance(labels, list) else ""
        for labels in table.get("trigger_labels", pd.Series([[]] * len(table), index=table.index))
    ]
    workbook = xlsxwriter.Workbook(str(path))
    heading = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    percent = workbook.add_format({"num_format": "0.0%", "valign": "top"})
    sheets = 0
    for jurisdiction, group in table.groupby("jurisdiction", sort=True):
        sheet = workbook.add_worksheet(str(jurisdiction)[:31])
        sheets += 1
        sheet.write(0, 0, f"{title}（{jurisdiction}）")
        for col, (_, label) in enumerate(_XLSX_COLUMNS):
            sheet.write(1, col, label, heading)
        for row, (_, record) in enumerate(group.iterrows(), start=2):
            for col, (name, _) in enumerate(_XLSX_COLUMNS):
                value = record.get(name)
                if value is None or (isinstance(value, float) and np.isnan(value)):
                    sheet.write_blank(row, col, None)
                elif name == "risk":
                    sheet.write_number(row, col, float(value), percent)
                elif isinstance(value, int | np.integer):
                    sheet.write_number(row, col, int(value))
                else:
                    sheet.write_string(row, col, str(value), wrap)
        sheet.set_column(0, 1, 8)
        sheet.set_column(2, 3, 16)
        sheet.set_column(4, 6, 12)
        sheet.set_column(7, 8, 48)
        sheet.freeze_panes(2, 0)
    if sheets == 0:
        workbook.add_worksheet("无预警").write(0, 0, f"{title}：本期无预警")
    workbook.close()
    return sheets
