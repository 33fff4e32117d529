"""``custom:*``: one-off tasks whose answer has a checkable form (CSV tables, reversed text, dates, counts)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from alignlab.evaluate.instructions.ifbench._registry import constraint
from alignlab.evaluate.instructions.ifbench._text import sentences, words


def _unfenced(response: str) -> str:
    """The response without markdown code-fence lines."""
    return "\n".join(ln for ln in response.strip().split("\n") if not ln.strip().startswith("```")).strip()


def _table(response: str, delimiter: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(_unfenced(response)), delimiter=delimiter) if row]


def _csv_ok(response: str, header: list[str], rows: int, delimiter: str = ",") -> bool:
    table = _table(response, delimiter)
    return (len(table) == rows + 1 and [c.strip() for c in table[0]] == header
            and all(len(r) == len(header) for r in table))


@constraint("custom:character_reverse", "The answer (the bald eagle) written backwards letter by letter: the "
            "reversed response names the eagle and the response itself does not.")
def character_reverse(response: str) -> bool:
    return "eagle" in response[::-1].lower() and "eagle" not in response.lower()


@constraint("custom:word_reverse", "The answer written with its words in reverse order: read backwards word by "
            "word the response says 'bald eagle', read forwards it does not.")
def word_reverse(response: str) -> bool:
    ws = [w.lower() for w in words(response)]
    backwards = " ".join(reversed(ws))
    return "bald eagle" in backwards and "bald eagle" not in " ".join(ws)


@constraint("custom:csv_city", "Comma-delimited CSV: the header ID,Country,City,Year,Count and exactly 7 rows of "
            "5 fields.")
def csv_city(response: str) -> bool:
    return _csv_ok(response, ["ID", "Country", "City", "Year", "Count"], 7)


@constraint("custom:csv_quotes", "Tab-delimited: the header StudentID, Subject, Grade, Semester, Score and exactly "
            "3 rows, every field (header included) enclosed in double quotes.")
def csv_quotes(response: str) -> bool:
    lines = [ln for ln in _unfenced(response).split("\n") if ln.strip()]
    quoted = all(re.fullmatch(r'"[^"\t]*"', f.strip()) for ln in lines for f in ln.split("\t"))
    header = ["StudentID", "Subject", "Grade", "Semester", "Score"]
    return quoted and _csv_ok(response, header, 3, delimiter="\t")


@constraint("custom:csv_special_character", "Comma-delimited CSV: header ProductID,Category,Brand,Price,Stock, "
            "exactly 14 rows, and a double-quoted field holding a special (not letter, digit or space) character.")
def csv_special_character(response: str) -> bool:
    special = any(re.search(r"[^\w\s]", m) for m in re.findall(r'"([^"\n]*)"', _unfenced(response)))
    return special and _csv_ok(response, ["ProductID", "Category", "Brand", "Price", "Stock"], 14)


@constraint("custom:date_format_list", "Only dates in YYYY-MM-DD form (valid calendar dates), separated by commas. "
            "Which battles they date is not checked.")
def date_format_list(response: str) -> bool:
    items = [x.strip() for x in _unfenced(response).split(",")]
    try:
        return bool(items) and all(
            re.fullmatch(r"\d{4}-\d{2}-\d{2}", x) and dt.date.fromisoformat(x) for x in items)
    except ValueError:
        return False


@constraint("custom:mcq_count_length", "Exactly 4 questions, each line starting with 'Question', each followed by "
            "5 non-empty option lines, the question lines strictly growing in length.")
def mcq_count_length(response: str) -> bool:
    blocks: list[list[str]] = []
    for ln in (x.strip() for x in _unfenced(response).split("\n")):
        if ln.startswith("Question"):
            blocks.append([ln])
        elif ln and blocks:
            blocks[-1].append(ln)
    lengths = [len(b[0]) for b in blocks]
    return (len(blocks) == 4 and all(len(b) == 6 for b in blocks)
            and all(y > x for x, y in zip(lengths, lengths[1:], strict=False)))


@constraint("custom:multiples", "The numbers in the response are exactly 14, 21, 28, 35, 42, 49, in that order.")
def multiples(response: str) -> bool:
    return [int(x) for x in re.findall(r"\d+", response)] == [14, 21, 28, 35, 42, 49]


@constraint("custom:sentence_alphabet", "Exactly 26 sentences whose first words start with A, B, ..., Z in order.")
def sentence_alphabet(response: str) -> bool:
    firsts = [ws[0][0].upper() if ws else "" for ws in (words(s) for s in sentences(response))]
    return firsts == [chr(ord("A") + i) for i in range(26)]
