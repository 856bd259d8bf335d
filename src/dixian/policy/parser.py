"""A hand-written recursive-descent parser for rule expressions (tokens from `tokenizer`).

Grammar (lowest precedence first)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := additive [ COMPOP additive | ["not"] "in" "[" literals "]" ]
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | "true" | "false" | "date" "(" STRING ")"
                | "params" "." NAME | NAME "(" args ")" | NAME | "(" expr ")"

Nothing is ever evaluated as Python: the result is a syntax tree (`dixian.policy.ast`).
"""

from __future__ import annotations

from datetime import date

from dixian.policy.ast import (
    COMPARISONS,
    FUNCTIONS,
    KEYWORDS,
    Binary,
    Boolean,
    Call,
    DateLiteral,
    Expr,
    Field,
    InList,
    Number,
    Param,
    String,
    Unary,
)
from dixian.policy.problems import ExpressionError, Problem
from dixian.policy.tokenizer import Token, tokenize

# Problem and ExpressionError lived here before problems.py; the old import path still works.
__all__ = ["ExpressionError", "Problem", "Token", "parse_expression", "tokenize"]

_OPERAND = "an operand (number, string, field name, params.NAME, a function call or '(')"


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    return f"'{token.text}'"


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (text is None or token.text == text)

    def fail(self, expected: str, token: Token | None = None) -> ExpressionError:
        token = token or self.current
        return ExpressionError(
            [
                Problem(
                    token.pos.line,
                    token.pos.column,
                    f"expected {expected} but found {_describe(token)}",
                )
            ]
        )

    def expect(self, kind: str, text: str, expected: str) -> Token:
        if not self.at(kind, text):
            raise self.fail(expected)
        return self.advance()

    def parse(self) -> Expr:
        node = self.expr()
        if not self.at("end"):
            raise self.fail("an operator ('and', 'or', a comparison, arithmetic) or the end")
        return node

    def expr(self) -> Expr:
        node = self.and_expr()
        while self.at("name", "or"):
            token = self.advance()
            node = Binary("or", node, self.and_expr(), token.pos)
        return node

    def and_expr(self) -> Expr:
        node = self.not_expr()
        while self.at("name", "and"):
            token = self.advance()
            node = Binary("and", node, self.not_expr(), token.pos)
        return node

    def not_expr(self) -> Expr:
        if self.at("name", "not"):
            token = self.advance()
            return Unary("not", self.not_expr(), token.pos)
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.additive()
        token = self.current
        if token.kind == "op" and token.text in COMPARISONS:
            self.advance()
            node: Expr = Binary(token.text, left, self.additive(), token.pos)
            after = self.current
            if after.kind == "op" and after.text in COMPARISONS:
                raise ExpressionError(
                    [
                        Problem(
                            after.pos.line,
                            after.pos.column,
                            "comparisons cannot be chained: write 'a < b and b < c'",
                        )
                    ]
                )
            return node
        negated = False
        if self.at("name", "not"):
            negated = True
            self.advance()
            if not self.at("name", "in"):
                raise self.fail("'in' after 'not' (form: x not in [a, b])")
        if self.at("name", "in"):
            self.advance()
            return InList(left, self.literal_list(), negated, token.pos)
        return left

    def literal_list(self) -> tuple[Expr, ...]:
        self.expect("op", "[", "'[' to start the list (form: x in [a, b])")
        items: list[Expr] = []
        if self.at("op", "]"):
            self.advance()
            return ()
        while True:
            items.append(self.list_item())
            if self.at("op", ","):
                self.advance()
                continue
            self.expect("op", "]", "',' or ']' in the list")
            return tuple(items)

    def list_item(self) -> Expr:
        token = self.current
        if self.at("op", "-") and self.tokens[self.index + 1].kind == "number":
            self.advance()
            number = self.advance()
            return Unary("-", Number(number.value, number.pos), token.pos)  # type: ignore[arg-type]
        node = self.primary()
        if not isinstance(node, Number | String | Boolean | DateLiteral):
            raise self.fail("a literal (number, string, true/false, date(...)) in the list", token)
        return node

    def additive(self) -> Expr:
        node = self.term()
        while self.current.kind == "op" and self.current.text in ("+", "-"):
            token = self.advance()
            node = Binary(token.text, node, self.term(), token.pos)
        return node

    def term(self) -> Expr:
        node = self.unary()
        while self.current.kind == "op" and self.current.text in ("*", "/"):
            token = self.advance()
            node = Binary(token.text, node, self.unary(), token.pos)
        return node

    def unary(self) -> Expr:
        if self.at("op", "-"):
            token = self.advance()
            return Unary("-", self.unary(), token.pos)
        return self.primary()

    def primary(self) -> Expr:
        token = self.current
        if token.kind == "number":
            self.advance()
            return Number(token.value, token.pos)  # type: ignore[arg-type]
        if token.kind == "string":
            self.advance()
            return String(str(token.value), token.pos)
        if self.at("op", "("):
            self.advance()
            node = self.expr()
            self.expect("op", ")", "')' to close the '('")
            return node
        if token.kind != "name":
            raise self.fail(_OPERAND)
        word = token.text
        if word in ("true", "false"):
            self.advance()
            return Boolean(word == "true", token.pos)
        if word == "params":
            self.advance()
            self.expect("op", ".", "'.' after 'params' (form: params.NAME)")
            name = self.current
            if name.kind != "name" or name.text in KEYWORDS:
                raise self.fail("a parameter name after 'params.'")
            self.advance()
            return Param(name.text, token.pos)
        if word in KEYWORDS:
            raise self.fail(_OPERAND)
        self.advance()
        if word == "date" and self.at("op", "("):
            return self.date_literal(token)
        if self.at("op", "("):
            if word not in FUNCTIONS:
                raise ExpressionError(
                    [
                        Problem(
                            token.pos.line,
                            token.pos.column,
                            f"unknown function '{word}'; expected one of "
                            + ", ".join(sorted(FUNCTIONS)),
                        )
                    ]
                )
            return Call(word, self.arguments(), token.pos)
        return Field(word, token.pos)

    def date_literal(self, token: Token) -> Expr:
        self.advance()
        text = self.current
        if text.kind != "string":
            raise self.fail('a date string (form: date("2024-01-31"))')
        self.advance()
        self.expect("op", ")", "')' after the date string")
        try:
            value = date.fromisoformat(str(text.value))
        except ValueError:
            raise ExpressionError(
                [
                    Problem(
                        text.pos.line,
                        text.pos.column,
                        f"invalid date {text.text}: expected YYYY-MM-DD",
                    )
                ]
            ) from None
        return DateLiteral(value, token.pos)

    def arguments(self) -> tuple[Expr, ...]:
        self.advance()  # "("
        args: list[Expr] = []
        if self.at("op", ")"):
            self.advance()
            return ()
        while True:
            args.append(self.expr())
            if self.at("op", ","):
                self.advance()
                continue
            self.expect("op", ")", "',' or ')' in the argument list")
            return tuple(args)


def parse_expression(text: str) -> Expr:
    """Parse a rule expression into a syntax tree.

    Args:
        text: the expression, e.g. ``income_net_pc < params.monitoring_line``.

    Returns:
        The syntax tree.

    Raises:
        ExpressionError: with the line, column and expected form of the first syntax error.

    Example:
        >>> parse_expression("member_count >= 2")
        Binary(op='>=', left=Field(name='member_count'), right=Number(value=2))
    """
    if not text.strip():
        raise ExpressionError([Problem(1, 1, f"empty expression: expected {_OPERAND}")])
    return _Parser(tokenize(text)).parse()
