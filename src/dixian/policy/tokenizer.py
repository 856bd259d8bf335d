"""The tokenizer of rule expressions: numbers, strings, names and operators with their positions.

Only ASCII letters, digits and `_` make names; strings take single or double quotes with
backslash escapes; a character that belongs to no token is an error that says what to write
instead (`and` for `&`, `==` for `=`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dixian.policy.ast import Pos
from dixian.policy.problems import ExpressionError, Problem

_OPERATORS = ("<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",", ".")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


@dataclass(frozen=True)
class Token:
    """One token: its kind, its text as written, its value, where it starts."""

    kind: str  # number, string, name, op, end
    text: str
    value: object
    pos: Pos


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens.

    Raises:
        ExpressionError: an unknown character, an unterminated string or a malformed number.
    """
    tokens: list[Token] = []
    index, line, line_start = 0, 1, 0
    length = len(text)
    while index < length:
        char = text[index]
        pos = Pos(line, index - line_start + 1)
        if char == "\n":
            index += 1
            line, line_start = line + 1, index
            continue
        if char in " \t\r":
            index += 1
            continue
        if char.isascii() and (
            char.isdigit() or (char == "." and text[index + 1 : index + 2].isdigit())
        ):
            index = _number(text, index, pos, tokens)
            continue
        if char.isascii() and (char.isalpha() or char == "_"):
            end = index
            while (
                end < length and text[end].isascii() and (text[end].isalnum() or text[end] == "_")
            ):
                end += 1
            word = text[index:end]
            tokens.append(Token("name", word, word, pos))
            index = end
            continue
        if char in "\"'":
            index = _string(text, index, pos, tokens)
            continue
        for operator in _OPERATORS:
            if text.startswith(operator, index):
                tokens.append(Token("op", operator, operator, pos))
                index += len(operator)
                break
        else:
            hint = " (use 'and', 'or', 'not')" if char in "&|!" else ""
            if char == "=":
                hint = " (use '==' to compare)"
            raise ExpressionError(
                [Problem(pos.line, pos.column, f"unexpected character '{char}'{hint}")]
            )
    tokens.append(Token("end", "", None, Pos(line, length - line_start + 1)))
    return tokens


def _number(text: str, index: int, pos: Pos, tokens: list[Token]) -> int:
    end = index
    length = len(text)
    while end < length and text[end].isdigit():
        end += 1
    is_float = False
    if end < length and text[end] == ".":
        is_float = True
        end += 1
        while end < length and text[end].isdigit():
            end += 1
    if end < length and text[end] in "eE":
        is_float = True
        end += 1
        if end < length and text[end] in "+-":
            end += 1
        start_digits = end
        while end < length and text[end].isdigit():
            end += 1
        if end == start_digits:
            raise ExpressionError(
                [
                    Problem(
                        pos.line, pos.column, "malformed number: expected digits after the exponent"
                    )
                ]
            )
    if end < length and (text[end].isalpha() or text[end] == "_"):
        raise ExpressionError(
            [Problem(pos.line, pos.column, f"malformed number '{text[index : end + 1]}'")]
        )
    raw = text[index:end]
    value: int | float = float(raw) if is_float else int(raw)
    tokens.append(Token("number", raw, value, pos))
    return end


def _string(text: str, index: int, pos: Pos, tokens: list[Token]) -> int:
    quote = text[index]
    end = index + 1
    chars: list[str] = []
    while end < len(text):
        char = text[end]
        if char == "\\" and end + 1 < len(text):
            chars.append(_ESCAPES.get(text[end + 1], text[end + 1]))
            end += 2
            continue
        if char == quote:
            tokens.append(Token("string", text[index : end + 1], "".join(chars), pos))
            return end + 1
        if char == "\n":
            break
        chars.append(char)
        end += 1
    raise ExpressionError(
        [Problem(pos.line, pos.column, f"unterminated string: expected a closing {quote}")]
    )
