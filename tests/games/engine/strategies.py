"""Hypothesis strategies that write random rules in the rule language."""

from __future__ import annotations

from hypothesis import strategies as st

VARS = ("x", "y", "z")

numbers = st.one_of(
    st.integers(min_value=0, max_value=30).map(str),
    st.sampled_from(["0.5", "1.5", "2.0", "10", "100"]),
)
atoms = st.one_of(st.sampled_from(VARS), numbers)


def _num_expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binop = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "//", "%"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    power = st.tuples(children, st.integers(0, 3)).map(lambda t: f"({t[0]}) ** {t[1]}")
    neg = children.map(lambda c: f"-({c})")
    call1 = st.tuples(st.sampled_from(["abs", "int", "round", "floor", "ceil", "sqrt"]), children).map(
        lambda t: f"{t[0]}({t[1]})"
    )
    call2 = st.tuples(st.sampled_from(["min", "max", "gcd"]), children, children).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})"
    )
    bits = st.tuples(children, st.sampled_from(["&", "|", "^"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    return st.one_of(binop, power, neg, call1, call2, bits)


num_exprs = st.recursive(atoms, _num_expr, max_leaves=6)


def _bool_expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    both = st.tuples(children, st.sampled_from(["and", "or"]), children).map(
        lambda t: f"({t[0]}) {t[1]} ({t[2]})"
    )
    neg = children.map(lambda c: f"not ({c})")
    cond = st.tuples(children, children, children).map(lambda t: f"({t[0]}) if ({t[1]}) else ({t[2]})")
    return st.one_of(both, neg, cond)


comparisons = st.one_of(
    st.tuples(num_exprs, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), num_exprs).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    ),
    st.tuples(num_exprs, num_exprs, num_exprs).map(lambda t: f"{t[0]} < {t[1]} <= {t[2]}"),
    st.tuples(st.sampled_from(["is_int", "is_square"]), num_exprs).map(lambda t: f"{t[0]}({t[1]})"),
)

rules = st.recursive(comparisons, _bool_expr, max_leaves=4)

points = st.tuples(
    *[
        st.one_of(st.integers(-25, 25), st.floats(-200, 200, allow_nan=False).map(lambda v: round(v, 2)))
        for _ in VARS
    ]
)
