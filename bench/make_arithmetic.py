"""Generate ``src/alignlab/suites/data/arithmetic.jsonl``: arithmetic word problems with integer answers.

    python bench/make_arithmetic.py            # rewrite the file (deterministic: fixed seed)
    python bench/make_arithmetic.py --check    # fail if the committed file differs from what this script writes

The committed JSONL is the suite's source; this script documents how it was made. Every problem stores the
arithmetic ``expression`` its answer comes from, and the answer is computed from that expression (tests recompute
it), so no answer is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/alignlab/suites/data/arithmetic.jsonl"
SEED = 20240611
N_TEST, N_DEV = 110, 8

NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Lena", "Mateo",
         "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
ITEMS = ["apples", "pencils", "stickers", "marbles", "books", "cookies", "stamps", "shells", "cards", "balloons"]

Problem = tuple[str, str, str]  # (question, expression, category)


def _add_sub(r: random.Random) -> Problem:
    n, it = r.choice(NAMES), r.choice(ITEMS)
    a, b, c = r.randint(12, 90), r.randint(5, 60), r.randint(3, 40)
    if c > a + b:
        c = a + b - 1
    return (f"{n} has {a} {it}. A friend gives {n} {b} more, and then {n} gives away {c}. "
            f"How many {it} does {n} have now?", f"{a} + {b} - {c}", "add-subtract")


def _multiply(r: random.Random) -> Problem:
    boxes, per, it = r.randint(3, 15), r.randint(4, 24), r.choice(ITEMS)
    return (f"A shop has {boxes} boxes with {per} {it} in each box. How many {it} are there in total?",
            f"{boxes} * {per}", "multiply")


def _divide(r: random.Random) -> Problem:
    kids, each, it = r.randint(3, 12), r.randint(3, 15), r.choice(ITEMS)
    total = kids * each
    return (f"{total} {it} are shared equally among {kids} children. How many {it} does each child get?",
            f"{total} // {kids}", "divide")


def _money(r: random.Random) -> Problem:
    n, price, qty = r.choice(NAMES), r.randint(2, 15), r.randint(2, 6)
    paid = (price * qty // 10 + 1 + r.randint(0, 3)) * 10
    return (f"{n} buys {qty} notebooks that cost {price} dollars each and pays with {paid} dollars. "
            f"How many dollars of change does {n} get?", f"{paid} - {qty} * {price}", "money")


def _time(r: random.Random) -> Problem:
    h, m, extra = r.randint(1, 9), r.choice([0, 10, 15, 20, 30, 40, 45]), r.randint(25, 150)
    return (f"A train leaves at {h}:{m:02d} and the journey takes {extra} minutes. How many minutes after "
            f"{h}:00 does the train arrive?", f"{m} + {extra}", "time")


def _rate(r: random.Random) -> Problem:
    speed, hours = r.randint(30, 90), r.randint(2, 7)
    return (f"A car travels at a steady {speed} kilometres per hour for {hours} hours. "
            f"How many kilometres does it travel?", f"{speed} * {hours}", "rate")


def _two_step(r: random.Random) -> Problem:
    n, packs, per, eaten = r.choice(NAMES), r.randint(2, 8), r.randint(6, 12), r.randint(1, 10)
    return (f"{n} buys {packs} packs of cookies with {per} cookies in each pack and eats {eaten} of them. "
            f"How many cookies are left?", f"{packs} * {per} - {eaten}", "two-step")


def _perimeter(r: random.Random) -> Problem:
    w, h = r.randint(3, 30), r.randint(3, 30)
    return (f"A rectangular garden is {w} metres wide and {h} metres long. How many metres of fence are needed "
            f"to go all the way around it?", f"2 * ({w} + {h})", "geometry")


def _area(r: random.Random) -> Problem:
    w, h = r.randint(3, 25), r.randint(3, 25)
    return (f"A room is {w} metres wide and {h} metres long. What is its floor area in square metres?",
            f"{w} * {h}", "geometry")


def _age(r: random.Random) -> Problem:
    n1, n2 = r.sample(NAMES, 2)
    age, diff, years = r.randint(5, 40), r.randint(2, 30), r.randint(2, 20)
    return (f"{n1} is {age} years old and {n2} is {diff} years older than {n1}. How old will {n2} be in "
            f"{years} years?", f"{age} + {diff} + {years}", "add-subtract")


def _percent(r: random.Random) -> Problem:
    price, pct = r.randint(2, 25) * 20, r.choice([10, 20, 25, 50])
    assert price * pct % 100 == 0  # whole dollars, so floor division is exact
    return (f"A jacket costs {price} dollars. It is on sale for {pct} percent off. What is the sale price in "
            f"dollars?", f"{price} - {price} * {pct} // 100", "percent")


def _remainder(r: random.Random) -> Problem:
    per, total = r.randint(4, 9), r.randint(30, 99)
    if total % per == 0:
        total += 1
    return (f"{total} eggs are packed into cartons that hold {per} eggs each. How many eggs are left over "
            f"after filling as many cartons as possible?", f"{total} % {per}", "divide")


TEMPLATES: list[Callable[[random.Random], Problem]] = [
    _add_sub, _multiply, _divide, _money, _time, _rate, _two_step, _perimeter, _area, _age, _percent, _remainder,
]


def evaluate(expression: str) -> int:
    """Integer value of an expression of integers, + - * // % and parentheses (nothing else is allowed)."""
    import ast

    allowed = (ast.Expression, ast.BinOp, ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Constant) and not isinstance(node.value, int)):
            raise ValueError(f"not plain integer arithmetic: {expression!r}")
    return int(eval(compile(tree, "<expr>", "eval"), {"__builtins__": {}}))  # noqa: S307 - checked above


def build() -> list[dict]:
    r = random.Random(SEED)
    rows, seen = [], set()
    while len(rows) < N_TEST + N_DEV:
        question, expr, cat = TEMPLATES[len(rows) % len(TEMPLATES)](r)
        if question in seen:
            continue
        seen.add(question)
        answer = evaluate(expr)
        assert answer >= 0, (question, expr)
        split = "dev" if len(rows) >= N_TEST else "test"
        idx = len(rows) + 1 if split == "test" else len(rows) - N_TEST + 1
        rows.append({"id": f"arith-{split}-{idx:03d}", "split": split, "category": cat, "question": question,
                     "answer": answer, "expression": expr})
    return rows


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = ap.parse_args()
    text = render(build())
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUT} differs from the generator's output")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10))} problems)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
