"""Small department feeds built inline for the ingestion tests (no binary fixtures)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dixian.config import Workspace

# The ingestion date of the tests: ID birth dates after it are impossible.
AS_OF = date(2026, 1, 1)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

REGIONS = """region_code,name,level,parent_code
522799000000,示范县,county,
522799001000,城关镇,township,522799000000
522799001001,新村,village,522799001000
522799001002,河东村,village,522799001000
522799002000,河西乡,township,522799000000
522799002001,新村,village,522799002000
522799002002,河西村,village,522799002000
"""

CIVIL_HEADER = ["身份证号", "姓名", "所在村", "救助类别", "发放金额", "发放月份", "备注"]


def id_number(birth: str, sequence: int) -> str:
    """A valid 18-character ID number for a birth date (yyyymmdd) and a sequence (odd: male)."""
    body = f"522722{birth}{sequence:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def civil_rows(n: int, *, month: str = "2024-01", start: int = 0) -> list[list[str]]:
    """n clean rows of civil affairs assistance payments."""
    rows = []
    for k in range(start, start + n):
        rows.append(
            [
                id_number(f"19{50 + k % 40:02d}0{1 + k % 9}1{k % 9}", 1 + k % 900),
                f"张{'伟芳娜敏静丽强磊军洋'[k % 10]}{k}",
                "522799002002" if k % 2 else "城关镇新村",
                "低保" if k % 3 else "特困供养",
                f"{300 + k}",
                month,
                "",
            ]
        )
    return rows


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join(row) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def add_regions(workspace: Workspace) -> None:
    (workspace.root / "reference").mkdir(exist_ok=True)
    (workspace.root / "reference" / "regions.csv").write_text(REGIONS, encoding="utf-8")


def civil_path(workspace: Workspace, period: str, suffix: str = "csv") -> Path:
    return workspace.feeds_dir / "civil_affairs" / "civil_affairs_assistance" / f"{period}.{suffix}"


def write_civil(
    workspace: Workspace, period: str, rows: list[list[str]], *, encoding: str = "utf-8"
) -> Path:
    """The civil affairs assistance feed of a period (`2024-01`, `2024-01.correction`)."""
    return write_csv(civil_path(workspace, period), CIVIL_HEADER, rows, encoding=encoding)


def write_registration(workspace: Workspace, period: str, rows: list[list[object]]) -> Path:
    """The household registration feed of a period, as an XLSX export."""
    return write_registration_xlsx(registration_path(workspace, period), rows)


def registration_path(workspace: Workspace, period: str) -> Path:
    return workspace.feeds_dir / "public_security" / "household_registration" / f"{period}.xlsx"


def write_registration_xlsx(path: Path, rows: list[list[object]]) -> Path:
    """Household registration as a department exports it: a title row, a merged 2-row header."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("户籍")
    sheet.merge_range(0, 0, 0, 8, "示范县户籍人口信息（2024年1月）")
    sheet.merge_range(1, 0, 1, 3, "人员信息")
    for column, label in enumerate(["公民身份号码", "姓名", "性别", "出生日期"]):
        sheet.write(2, column, label)
    for column, label in enumerate(
        ["户号", "与户主关系", "户籍地", "人员状态", "变动日期"], start=4
    ):
        sheet.merge_range(1, column, 2, column, label)
    for index, row in enumerate(rows):
        sheet.write_row(3 + index, 0, row)
    book.close()
    return path
