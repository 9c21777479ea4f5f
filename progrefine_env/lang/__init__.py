"""The program language of LANGUAGE.md: vocabulary, syntax, types with holes, interpreter."""

from .interpreter import (
    ERROR_KINDS,
    FUEL,
    INT_MAX,
    INT_MIN,
    MAX_LIST_LENGTH,
    Compiled,
    EvalError,
    compile_program,
    evaluate,
    input_error,
    value_type,
    values_equal,
)
from .program import MAX_DEPTH, MAX_NODES, Program, Shape, ShapeError, shape_of
from .syntax import ParseError, parse, unparse
from .types import TypeInfo, check, grammar_masks, input_signature, masks_to_array, type_of
from .vocab import ARITY, MASK, PAD, TOKEN_ID, TOKENS_BY_ARITY, VOCAB, VOCAB_SIZE

__all__ = [
    "ARITY", "ERROR_KINDS", "FUEL", "INT_MAX", "INT_MIN", "MASK", "MAX_DEPTH", "MAX_LIST_LENGTH", "MAX_NODES", "PAD",
    "TOKENS_BY_ARITY", "TOKEN_ID", "VOCAB", "VOCAB_SIZE", "Compiled", "EvalError", "ParseError",
    "Program", "Shape", "ShapeError", "TypeInfo", "check", "compile_program", "evaluate",
    "grammar_masks", "input_error", "input_signature", "masks_to_array", "parse", "shape_of",
    "type_of", "unparse", "value_type", "values_equal",
]  # fmt: skip
