"""How the policy language reports errors: every problem with its line, column and expected form.

The tokenizer, the parser, the type checker and the policy-file checks all report `Problem`s
in an `ExpressionError`; the file checks collect every problem found, so a user sees them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from dixian.errors import PolicyError


@dataclass(frozen=True)
class Problem:
    """One error in a policy: where, what is wrong, and the form expected."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class ExpressionError(PolicyError):
    """A rule expression (or policy file) has errors; `problems` lists every one found."""

    def __init__(self, problems: list[Problem], *, source: str = "") -> None:
        self.problems = problems
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + "; ".join(str(problem) for problem in problems))
