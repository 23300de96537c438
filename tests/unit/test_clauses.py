from __future__ import annotations

import random

import pytest

from services.rules.clauses import (
    clause_key,
    comment_order_key,
    line_key,
    member_order_key,
)


def by_clause(clauses: list[str | None]) -> list[str | None]:
    return sorted(clauses, key=clause_key)


def test_numbered_clauses_compare_as_number_tuples() -> None:
    assert by_clause(["10", "3.10", "3.2", "3", "1", "3.2.1"]) == [
        "1",
        "3",
        "3.2",
        "3.2.1",
        "3.10",
        "10",
    ]


def test_general_comments_come_first() -> None:
    for general in [
        "",
        None,
        "General",
        "general",
        "GENERAL ",
        "All",
        "Whole document",
        "whole document",
        "—",
        "-",
        "–",
        "General comment",
    ]:
        ordered = by_clause(["1", "Annex A", "Table 3", general])
        assert ordered[0] == general, general


def test_general_before_foreword_before_introduction_before_clause_one() -> None:
    assert by_clause(["1", "Introduction", "Foreword", "General", "0.1"]) == [
        "General",
        "Foreword",
        "Introduction",
        "0.1",
        "1",
    ]


def test_clause_prefixes_parse_to_their_number() -> None:
    assert by_clause(["Clause 5", "5.1.2 a)", "§ 4", "4.1", "Subclause 3.1", "cl. 6"]) == [
        "Subclause 3.1",
        "§ 4",
        "4.1",
        "Clause 5",
        "5.1.2 a)",
        "cl. 6",
    ]
    assert clause_key("Clause 5")[2] == (5,)
    assert clause_key("5.1.2 a)")[2] == (5, 1, 2)
    assert clause_key("§ 4")[2] == (4,)


def test_scope_normative_references_and_terms_sit_at_clauses_one_to_three() -> None:
    assert by_clause(["3.1", "Terms and definitions", "2", "Scope", "Normative references", "1.1"]) == [
        "Scope",
        "1.1",
        "2",
        "Normative references",
        "Terms and definitions",
        "3.1",
    ]


def test_annexes_follow_clauses_letter_then_numbers() -> None:
    assert by_clause(["Annex B.2", "A.1", "Annex B", "99", "A", "Annex A.10", "Annex A.2"]) == [
        "99",
        "A",
        "A.1",
        "Annex A.2",
        "Annex A.10",
        "Annex B",
        "Annex B.2",
    ]


def test_annex_z_comes_before_annex_aa() -> None:
    assert by_clause(["Annex AA", "Annex Z", "annex b"]) == ["annex b", "Annex Z", "Annex AA"]


def test_bibliography_follows_annexes_and_unparseable_text_comes_last() -> None:
    assert by_clause(["Table 3", "Bibliography", "Annex C", "Figure 2", "12"]) == [
        "12",
        "Annex C",
        "Bibliography",
        "Figure 2",
        "Table 3",
    ]


def test_unparseable_clauses_sort_case_insensitively_with_numbers_as_numbers() -> None:
    assert by_clause(["table 10", "Table 2", "figure 1", "Annexes"]) == [
        "Annexes",
        "figure 1",
        "Table 2",
        "table 10",
    ]


def test_a_word_beginning_with_a_capital_is_not_an_annex() -> None:
    assert clause_key("Annex A")[0] == clause_key("A")[0]
    assert clause_key("Table 3")[0] != clause_key("A")[0]
    assert clause_key("Annexes")[0] != clause_key("Annex A")[0]


def test_line_numbers_compare_as_numbers() -> None:
    lines: list[str | None] = ["100", "17-19", "l. 5", "", None, "20", "Line 3", "abc", "17"]
    assert sorted(lines, key=line_key)[:6] == ["Line 3", "l. 5", "17", "17-19", "20", "100"]
    assert line_key("17-19")[1] == 17
    assert line_key("l. 5")[1] == 5


def test_empty_and_unparseable_lines_come_after_numbered_lines() -> None:
    assert line_key("")[0] == 1
    assert line_key(None)[0] == 1
    assert line_key("abc")[0] == 1
    assert line_key("99999")[0] == 0
    assert line_key("99999") < line_key("")


def test_comment_order_is_clause_then_line_then_body_then_reference() -> None:
    rows = [
        ("3.2", "40", "DE", "DE-002"),
        ("3.2", "17", "JP", "JP-001"),
        ("3.2", "17", "DE", "DE-010"),
        ("3.2", "17", "DE", "DE-9"),
        ("General", "", "US", "US-001"),
        ("3.10", "1", "AT", "AT-001"),
        ("Annex A", "5", "AT", "AT-002"),
    ]
    ordered = sorted(rows, key=lambda r: comment_order_key(*r))
    assert [r[3] for r in ordered] == [
        "US-001",
        "DE-9",
        "DE-010",
        "JP-001",
        "DE-002",
        "AT-001",
        "AT-002",
    ]


def test_member_order_is_body_then_reference() -> None:
    rows = [
        ("JP", "JP-001", "1", "1"),
        ("DE", "DE-002", "1", "1"),
        ("DE", "DE-001", "Annex A", "9"),
        ("**", "**-001", "5", ""),
    ]
    ordered = sorted(rows, key=lambda r: member_order_key(*r))
    assert [r[1] for r in ordered] == ["**-001", "DE-001", "DE-002", "JP-001"]


MIXED: list[str | None] = [
    None,
    "",
    " ",
    "\t\n",
    "General",
    "Foreword",
    "Introduction",
    "0",
    "0.1",
    "1",
    "2.1",
    "3.10",
    "3.2",
    "10",
    "Clause 5",
    "5.1.2 a)",
    "§ 4",
    "A",
    "A.1",
    "Annex B.2",
    "Annex AA",
    "Bibliography",
    "Table 3",
    "Figure 2",
    "Ωmega",
    "日本語",
    "١٢",
    "²",
    "3.2.",
    "3..2",
    "....",
    "99999999999999999999999",
    "Annex",
    "a)",
    "Annex A (informative)",
    "x1y2",
    "1a",
    "a1",
    "A.1.b",
    "Scope",
    "Index",
    "Title",
    "Contents",
    "\u00a0General\u00a0",
]


@pytest.mark.parametrize("seed", range(20))
def test_sorting_a_shuffled_mixed_list_never_raises_and_is_deterministic(seed: int) -> None:
    expected = sorted(MIXED, key=clause_key)
    shuffled = MIXED[:]
    random.Random(seed).shuffle(shuffled)
    assert sorted(shuffled, key=clause_key) == expected
    rows = [(c, c, c or "", c or "") for c in shuffled]
    first = sorted(rows, key=lambda r: comment_order_key(*r))
    random.Random(seed + 1).shuffle(rows)
    assert sorted(rows, key=lambda r: comment_order_key(*r)) == first
    assert sorted(rows, key=lambda r: member_order_key(r[2], r[3], r[0], r[1]))
    assert sorted(shuffled, key=line_key)


def test_keys_of_every_group_compare_with_each_other() -> None:
    keys = [clause_key(c) for c in MIXED]
    for a in keys:
        for b in keys:
            assert (a < b) or (a > b) or (a == b)


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("02", (2,)),
        ('04.01.3 "Assumed Syntax Rules"', (4, 1, 3)),
        ("10.01.12 Constant Expression", (10, 1, 12)),
        ("03.112.04", (3, 112, 4)),
        ("3.32, 3.32.01, 3.7.5", (3, 32)),
        ("4.3.3;", (4, 3, 3)),
        ("5.2 Requirements", (5, 2)),
    ],
)
def test_zero_padded_listed_and_titled_clauses_order_by_their_first(written: str, number: tuple[int, ...]) -> None:
    # The collation tool pads numbers with zeros; a cell may list several clauses or add a title.
    assert clause_key(written)[:3] == clause_key(".".join(map(str, number)))[:3]


def test_zero_padded_clauses_sort_among_plain_ones_and_keep_their_text() -> None:
    written = ["10.01.12 Constant Expression", "03.112.04", '04.01.3 "Assumed Syntax Rules"', "02", "3.2"]
    assert sorted(written, key=clause_key) == [
        "02",
        "3.2",
        "03.112.04",
        '04.01.3 "Assumed Syntax Rules"',
        "10.01.12 Constant Expression",
    ]
