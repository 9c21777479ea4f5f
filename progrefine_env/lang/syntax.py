"""Parsing and printing of LANGUAGE.md's text syntax.

    expr := ATOM | "(" HEAD expr* ")"

Tokens are separated by white space and parentheses; `;` starts a comment to the end of the line.
One extension for incomplete programs: `<mask>` may also head a parenthesised expression,
`(<mask> e1 ... en)`, standing for an unknown token of arity n (1 <= n <= 3), so that a masked
inner node keeps its children. `unparse` writes the canonical form: single spaces, no comments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .brief import brief
from .program import MAX_DEPTH, MAX_NODES, Program
from .tree_text import tree_text
from .vocab import ARITY, MASK, MAX_ARITY, PAD, TOKEN_ID, VOCAB

_LEXEME = re.compile(r"\s+|;[^\n]*|\(|\)|[^\s();]+")


class ParseError(ValueError):
    """A text that is not a program, with the 0-based character offset and 1-based line/column."""

    def __init__(self, reason: str, text: str, offset: int) -> None:
        self.reason, self.offset = reason, offset
        self.line = text.count("\n", 0, offset) + 1
        self.column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        super().__init__(f"line {self.line}, column {self.column}: {reason}")


_MAX_LEXEMES = 3 * MAX_NODES  # a node, and for an inner node its two parentheses


def _lex(text: str) -> list[tuple[str, int]]:
    """Tokens and parentheses with their offsets; stops early on a text too long for a program
    (so that a huge text costs no more than a program of `MAX_NODES` nodes)."""
    lexemes = []
    for match in _LEXEME.finditer(text):
        lexeme = match.group()
        if not lexeme[0].isspace() and lexeme[0] != ";":
            if len(lexemes) == _MAX_LEXEMES:
                raise ParseError(f"a program has at most {MAX_NODES:,} nodes", text, match.start())
            lexemes.append((lexeme, match.start()))
    return lexemes


def parse(text: str) -> Program:
    """Parse one program. Raises `ParseError` naming the position and the reason."""
    if not isinstance(text, str):
        raise TypeError(f"parse() takes a str, not {type(text).__name__}")
    lexemes = _lex(text)
    if not lexemes:
        raise ParseError("empty program", text, len(text))
    tokens: list[int] = []
    arities: list[int] = []
    # Each frame: [node index, expected argument count or None for a masked head, offset, seen].
    stack: list[list] = []
    k = 0
    while True:
        lexeme, offset = lexemes[k]
        if lexeme == ")":
            raise ParseError("unexpected ')'", text, offset)
        if lexeme == "(":
            k += 1
            if k == len(lexemes):
                raise ParseError("'(' is not followed by a token", text, offset)
            head, head_offset = lexemes[k]
            tok = _token(head, text, head_offset)
            if tok != MASK and ARITY[tok] == 0:
                raise ParseError(f"{brief(head)} is an atom and cannot head '( ... )'", text, head_offset)
            if len(stack) >= MAX_DEPTH:
                raise ParseError(f"program nests deeper than {MAX_DEPTH} levels", text, offset)
            stack.append([len(tokens), None if tok == MASK else ARITY[tok], offset, 0])
            tokens.append(tok)
            arities.append(0)
        else:
            tok = _token(lexeme, text, offset)
            if tok != MASK and ARITY[tok] > 0:
                raise ParseError(f"{brief(lexeme)} takes {ARITY[tok]} arguments: write ({lexeme} ...)", text, offset)
            tokens.append(tok)
            arities.append(0)
            _count_argument(stack)
        k += 1
        if len(tokens) > MAX_NODES:
            raise ParseError(f"a program has at most {MAX_NODES:,} nodes", text, offset)
        # Close every expression whose ')' comes next.
        while stack and k < len(lexemes) and lexemes[k][0] == ")":
            node, expected, open_offset, seen = stack.pop()
            if expected is None and seen == 0:
                raise ParseError("'(<mask>' needs at least one argument", text, lexemes[k][1])
            if expected is not None and seen != expected:
                name = VOCAB[tokens[node]]
                raise ParseError(f"{name!r} takes {expected} arguments, got {seen}", text, lexemes[k][1])
            arities[node] = seen
            _count_argument(stack)
            k += 1
        if not stack:
            if k < len(lexemes):
                raise ParseError("text after the end of the program", text, lexemes[k][1])
            return Program(tuple(tokens), tuple(arities))
        if k == len(lexemes):
            raise ParseError("missing ')'", text, stack[-1][2])
        if stack[-1][1] is not None and stack[-1][3] == stack[-1][1]:
            name = VOCAB[tokens[stack[-1][0]]]
            raise ParseError(f"{name!r} takes {stack[-1][1]} arguments, got more", text, lexemes[k][1])
        if stack[-1][1] is None and stack[-1][3] == MAX_ARITY:
            # No token takes more arguments: such a node could never be filled in.
            reason = f"'(<mask>' stands for a token of at most {MAX_ARITY} arguments"
            raise ParseError(reason, text, lexemes[k][1])


def _count_argument(stack: list[list]) -> None:
    if stack:
        stack[-1][3] += 1


def _token(lexeme: str, text: str, offset: int) -> int:
    tok = TOKEN_ID.get(lexeme)
    if tok is None:
        raise ParseError(f"unknown token {brief(lexeme)}", text, offset)
    if tok == PAD:
        raise ParseError("'<pad>' never appears in a program", text, offset)
    return tok


def unparse(program: Program, names: Sequence[str] | None = None) -> str:
    """The canonical text of a program: `parse(unparse(p)) == p`.

    `names`, one string per node, replaces the token names (e.g. to mark nodes when rendering).
    """
    names = names if names is not None else [VOCAB[t] for t in program.tokens]
    return tree_text(program.arities, names)
