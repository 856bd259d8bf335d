"""No pipeline module reads the truth: only the simulator and evaluation modules may."""

from __future__ import annotations

import re
from pathlib import Path

import dixian

SOURCE = Path(dixian.__file__).parent
_IMPORTS_SIMULATOR = re.compile(r"^\s*(from|import)\s+dixian\.simulate\b", re.MULTILINE)
_TRUTH = re.compile(r"truth_dir|[\"']truth[/\"']|feed_rows\.parquet")


def _module(path: Path) -> str:
    return "dixian." + path.relative_to(SOURCE).with_suffix("").as_posix().replace("/", ".")


def _evaluation_name(path: Path) -> bool:
    return "evaluat" in path.name or path.name == "truth.py"


def _offenders(files: dict[Path, str]) -> list[str]:
    """Modules that read the truth without being evaluation modules, and pipeline modules
    that call an evaluation module (only evaluation commands and their CLI may)."""
    readers = {
        path
        for path, text in files.items()
        if not path.relative_to(SOURCE).as_posix().startswith("simulate/")
        and path.name != "config.py"
        and (_IMPORTS_SIMULATOR.search(text) or _TRUTH.search(text))
    }
    offenders = [_module(p) for p in files if p in readers and not _evaluation_name(p)]
    names = sorted(_module(p) for p in readers)
    if names:
        pattern = re.compile(
            r"^\s*(from|import)\s+(" + "|".join(re.escape(m) for m in names) + r")\b",
            re.MULTILINE,
        )
        for path, text in files.items():
            if path in readers or _evaluation_name(path) or "cli" in path.name:
                continue
            if pattern.search(text):
                offenders.append(_module(path))
    return offenders


def test_no_pipeline_module_imports_the_simulator_or_reads_truth() -> None:
    files = {p: p.read_text(encoding="utf-8") for p in sorted(SOURCE.rglob("*.py"))}
    assert not _offenders(files), f"modules reading the simulator's truth: {_offenders(files)}"


def test_the_scan_would_catch_offenders(tmp_path: Path) -> None:
    reader = SOURCE / "monitor" / "truth.py"
    files = {
        SOURCE / "verify" / "sneaky.py": "from dixian.simulate.truth import write_truth\n",
        SOURCE / "features" / "peek.py": "x = workspace.truth_dir / 'persons.parquet'\n",
        SOURCE / "monitor" / "model.py": "from dixian.monitor.truth import outcomes\n",
        reader: "x = truth_dir\n",
    }
    assert _offenders(files) == [
        "dixian.verify.sneaky",
        "dixian.features.peek",
        "dixian.monitor.model",
    ]
