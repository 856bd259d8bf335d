"""The data-quality report as one static HTML page with inline SVG charts (works offline)."""

from __future__ import annotations

from html import escape
from typing import Any

_BAR_WIDTH = 360
_ROW_HEIGHT = 22
_STYLE = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:left}
th{background:#f4f4f4}.num{text-align:right}.bad{color:#b00020}.muted{color:#777;font-size:12px}
"""


def _colour(score: float | None) -> str:
    if score is None:
        return "#999"
    if score >= 95:
        return "#2e7d32"
    if score >= 85:
        return "#f9a825"
    return "#c62828"


def _bar_chart(items: list[tuple[str, float | None]], *, maximum: float = 100.0) -> str:
    """Horizontal bars: one per (label, value), value on a 0..maximum scale."""
    height = _ROW_HEIGHT * len(items) + 8
    parts = [f'<svg width="{_BAR_WIDTH + 260}" height="{height}" role="img">']
    for index, (label, value) in enumerate(items):
        y = 4 + index * _ROW_HEIGHT
        width = 0 if value is None else max(1, int(_BAR_WIDTH * min(value, maximum) / maximum))
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="13">{escape(label)}</text>'
            f'<rect x="180" y="{y + 3}" width="{width}" height="15" fill="{_colour(value)}"/>'
            f'<text x="{186 + width}" y="{y + 15}" font-size="12">'
            f"{'' if value is None else f'{value:.1f}'}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _stacked(items: list[tuple[str, int, int]]) -> str:
    """Stacked bars of accepted (green) and quarantined (red) rows per dataset."""
    height = _ROW_HEIGHT * len(items) + 8
    largest = max((a + q for _, a, q in items), default=1) or 1
    parts = [f'<svg width="{_BAR_WIDTH + 300}" height="{height}" role="img">']
    for index, (label, accepted, quarantined) in enumerate(items):
        y = 4 + index * _ROW_HEIGHT
        good = int(_BAR_WIDTH * accepted / largest)
        bad = max(1 if quarantined else 0, int(_BAR_WIDTH * quarantined / largest))
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="13">{escape(label)}</text>'
            f'<rect x="200" y="{y + 3}" width="{good}" height="15" fill="#2e7d32"/>'
            f'<rect x="{200 + good}" y="{y + 3}" width="{bad}" height="15" fill="#c62828"/>'
            f'<text x="{206 + good + bad}" y="{y + 15}" font-size="12">'
            f"{accepted:,} / {quarantined:,}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def _statuses(counts: dict[str, int] | None) -> str:
    if not counts:
        return ""
    return (
        f"待处理 open {counts.get('open', 0):,}, 已更正 resolved {counts.get('resolved', 0):,}, "
        f"已替代 superseded {counts.get('superseded', 0):,}"
    )


def render_quality_html(report: dict[str, Any]) -> str:
    """The quality report (from `quality_report`) as a self-contained HTML page."""
    out = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>数据质量报告 Data quality — {escape(report.get('workspace', ''))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>数据质量报告 Data quality report — {escape(report.get('workspace', ''))}</h1>",
        f"<p class='muted'>生成时间 generated {escape(report['generated_at'])}; "
        f"批次 batches {report['overall']['batches']:,}; 行 rows {report['overall']['rows']:,}; "
        f"隔离 quarantined {report['overall']['rows_quarantined']:,} "
        f"({_statuses(report['overall'].get('quarantine'))}); "
        f"总分 overall score {report['overall']['score']}</p>",
        "<h2>部门得分 Department scores</h2>",
        _bar_chart(
            [(f"{d['label_zh']} {name}", d["score"]) for name, d in report["departments"].items()]
        ),
        "<h2>接收与隔离 Accepted / quarantined rows</h2>",
        _stacked(
            [
                (name, d["rows_staged"], d["rows_quarantined"])
                for name, d in report["datasets"].items()
            ]
        ),
    ]
    if report["cross_checks"]:
        out.append("<h2>跨部门核查 Cross-department checks</h2><table>")
        out.append(
            "<tr><th>检查 check</th><th>部门 department</th><th class='num'>记录 records</th>"
            "<th class='num'>人数 persons</th><th>示例 examples</th></tr>"
        )
        for code, check in report["cross_checks"].items():
            out.append(
                f"<tr><td>{escape(check['zh'])}<br><span class='muted'>{escape(code)}: "
                f"{escape(check['en'])}</span></td><td>{escape(check['department'])}</td>"
                f"<td class='num{' bad' if check['records'] else ''}'>{check['records']:,}</td>"
                f"<td class='num'>{check['persons']:,}</td>"
                f"<td class='muted'>{escape(', '.join(check['examples']))}</td></tr>"
            )
        out.append("</table>")
    out.append("<h2>各部门主要问题 Worst problems per department</h2>")
    for name, department in report["departments"].items():
        out.append(
            f"<h3>{escape(department['label_zh'])} {escape(name)} — {department['score']}</h3>"
        )
        if not department["problems"]:
            out.append("<p class='muted'>无问题 no problems found</p>")
            continue
        out.append("<table><tr><th>问题 problem</th><th>数据集 dataset</th><th>字段 field</th>"
                   "<th class='num'>行 rows</th><th>示例 example records</th></tr>")  # fmt: skip
        for problem in department["problems"]:
            out.append(
                f"<tr><td>{escape(problem['zh'])}<br><span class='muted'>"
                f"{escape(problem['code'])}</span></td><td>{escape(problem['dataset'])}</td>"
                f"<td>{escape(problem['field'])}</td><td class='num'>{problem['rows']:,}</td>"
                f"<td class='muted'>{escape(', '.join(problem.get('examples', [])))}</td></tr>"
            )
        out.append("</table>")
    out.append("<h2>字段质量 Field quality</h2>")
    for name, dataset in report["datasets"].items():
        timeliness = dataset.get("timeliness")
        lag = (
            f"; 时效 median lag {timeliness['median_lag_days']} days, "
            f"late {_pct(timeliness['share_late'])}"
            if timeliness
            else ""
        )
        out.append(
            f"<h3>{escape(dataset['label_zh'])} {escape(name)}</h3><p class='muted'>"
            f"validity {_pct(dataset['validity'])}; completeness {_pct(dataset['completeness'])}; "
            f"uniqueness {_pct(dataset['uniqueness'])}{escape(lag)}; "
            f"隔离 quarantine: {_statuses(dataset.get('quarantine'))}</p>"
        )
        out.append(
            "<table><tr><th>字段 field</th><th class='num'>完整性 completeness</th>"
            "<th class='num'>有效性 validity</th><th class='num'>警告 warnings</th></tr>"
        )
        for field, figures in dataset["fields"].items():
            mark = " *" if figures["required"] else ""
            out.append(
                f"<tr><td>{escape(field)}{mark}</td>"
                f"<td class='num'>{_pct(figures['completeness'])}</td>"
                f"<td class='num'>{_pct(figures['validity'])}</td>"
                f"<td class='num'>{figures['warnings']:,}</td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)
