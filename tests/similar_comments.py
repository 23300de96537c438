"""A labelled set for the similar-comments engine (issue #17 §3), written for this project.

Each row: (label, body, clause, comment, proposed change). Rows with the same label ask for the
same change (from different bodies: coordinated near-identical text, or real paraphrases); a label
of None marks a comment that asks for something of its own, often written to look like another
(the same template sentence on another figure, the same clause with another request).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from services.documents.reader import parse_compiled_table
from services.rules.similarity import THRESHOLD, Item, clause_factor, group, order_key

Row = tuple[str | None, str, str, str, str]

ROWS: list[Row] = [
    # -- coordinated text (CEN members send the same comment) -----------------------------------
    (
        "scope-sme",
        "DE",
        "1",
        "The scope excludes small and medium-sized enterprises without reason.",
        "Delete the sentence 'This document does not apply to SMEs' from the scope.",
    ),
    (
        "scope-sme",
        "AT",
        "1",
        "The scope excludes small and medium sized enterprises without any reason.",
        'Delete the sentence "This document does not apply to SMEs" from the Scope.',
    ),
    (
        "scope-sme",
        "CH",
        "1",
        "Scope: SMEs are excluded without justification.",
        "Remove the exclusion of SMEs from the scope.",
    ),
    (
        "iso9001-date",
        "FR",
        "2",
        "ISO 9001 is cited undated but the requirement of 5.3 refers to clause 8.4 of ISO 9001:2015.",
        "Date the reference: ISO 9001:2015.",
    ),
    (
        "iso9001-date",
        "BE",
        "2",
        "The normative reference to ISO 9001 must be dated because 5.3 cites its clause 8.4.",
        "Replace 'ISO 9001' by 'ISO 9001:2015' in Clause 2.",
    ),
    (
        "calib-def",
        "GB",
        "3.4",
        "The definition of calibration differs from the one in the VIM without a reason.",
        "Use the VIM definition of calibration: [SOURCE: JCGM 200:2012, 2.39].",
    ),
    (
        "calib-def",
        "US",
        "3.4",
        "Why is calibration defined differently than in the VIM (JCGM 200:2012)?",
        "Adopt the VIM definition of calibration and add the source JCGM 200:2012, 2.39.",
    ),
    (
        "calib-def",
        "JP",
        "3.4",
        "Definition of 'calibration' should be harmonized with JCGM 200:2012, 2.39.",
        "Replace the definition by that of JCGM 200:2012, 2.39.",
    ),
    # -- paraphrases ------------------------------------------------------------------------------
    (
        "uncertainty-k",
        "DE",
        "5.2",
        "The coverage factor for the expanded uncertainty is not specified.",
        "Add: 'The expanded uncertainty shall be stated with a coverage factor k = 2.'",
    ),
    (
        "uncertainty-k",
        "SE",
        "5.2",
        "It is not said which coverage factor k applies when the expanded uncertainty is reported.",
        "Specify k = 2 for the expanded uncertainty.",
    ),
    (
        "retention",
        "NL",
        "6.3",
        "How long records have to be kept is left open.",
        "Require that the records be retained for at least five years.",
    ),
    (
        "retention",
        "DK",
        "6.3",
        "No minimum retention period for records is given.",
        "Add a retention period of five years for the records.",
    ),
    (
        "retention",
        "NO",
        "6.3.1",
        "The retention period of the records is missing.",
        "State that records shall be retained for a minimum of 5 years.",
    ),
    (
        "fig3-legend",
        "IT",
        "7.1",
        "Figure 3 has no key: the symbols in the diagram are not explained.",
        "Add a key to Figure 3 explaining the symbols.",
    ),
    (
        "fig3-legend",
        "ES",
        "7.1",
        "The symbols used in Figure 3 are not explained; a key is missing.",
        "Provide a key for Figure 3.",
    ),
    (
        "annex-normative",
        "CN",
        "Annex B",
        "Annex B contains requirements (shall) but is marked informative.",
        "Change Annex B from informative to normative.",
    ),
    (
        "annex-normative",
        "KR",
        "B",
        "Annex B is informative although it contains requirements with 'shall'.",
        "Make Annex B normative, or reword its requirements as recommendations.",
    ),
    (
        "annex-normative",
        "FR",
        "Annex B",
        "Informative Annex B uses 'shall' statements.",
        "Annex B should become normative.",
    ),
    (
        "test-temp",
        "CA",
        "8.2",
        "The test temperature of 23 °C has no tolerance.",
        "Specify the test temperature as (23 ± 2) °C.",
    ),
    (
        "test-temp",
        "AU",
        "8.2",
        "A tolerance on the 23 degree test temperature is needed.",
        "Write (23 ± 2) °C for the test temperature.",
    ),
    (
        "remove-annex-c",
        "GB",
        "Annex C",
        "Annex C duplicates the content of clause 7 and adds nothing.",
        "Delete Annex C.",
    ),
    ("remove-annex-c", "IE", "C", "Annex C repeats clause 7 word for word.", "Delete Annex C entirely."),
    (
        "this-document",
        "ZA",
        "Introduction",
        "The draft refers to itself as 'this International Standard'.",
        "Replace 'this International Standard' by 'this document' throughout.",
    ),
    (
        "this-document",
        "IN",
        "General",
        "Use 'this document' instead of 'this International Standard' as required by the ISO/IEC Directives, Part 2.",
        "Replace 'this International Standard' with 'this document'.",
    ),
    (
        "sampling-plan",
        "DE",
        "9.1",
        "The sampling plan does not say how many specimens are taken per lot.",
        "Add: 'At least three specimens shall be taken from each lot.'",
    ),
    (
        "sampling-plan",
        "PL",
        "9.1",
        "Number of specimens per lot is not defined in the sampling plan.",
        "Specify a minimum of three specimens per lot.",
    ),
    (
        "acronym-list",
        "BR",
        "4",
        "Several abbreviations used in the text (QMS, KPI, NCR) are missing from clause 4.",
        "Add QMS, KPI and NCR to the list of abbreviated terms.",
    ),
    (
        "acronym-list",
        "MX",
        "4",
        "The abbreviated terms QMS, KPI and NCR are not listed in Clause 4.",
        "Include QMS, KPI, NCR in clause 4.",
    ),
    (
        "bib-order",
        "CZ",
        "Bibliography",
        "The bibliography entries are not in the order of ISO standards first.",
        "Reorder the bibliography: ISO and IEC documents first, by number.",
    ),
    (
        "bib-order",
        "SK",
        "Bibliography",
        "Bibliography: ISO/IEC documents should be listed first, in numerical order.",
        "Reorder the Bibliography entries.",
    ),
    (
        "audit-freq",
        "FI",
        "10.2",
        "Internal audits are required but no frequency is given.",
        "Require internal audits at least once a year.",
    ),
    (
        "audit-freq",
        "SE",
        "10.2",
        "How often must the internal audit be carried out? This is not stated.",
        "Add 'at least annually' to the internal audit requirement.",
    ),
    # -- look alike, ask for something else ----------------------------------------------------
    (None, "DE", "7.2", "Figure 4 is not cited in the text.", "Add a reference to Figure 4 in 7.2."),
    (None, "AT", "9.3", "Figure 7 is not cited in the text.", "Add a reference to Figure 7 in 9.3."),
    (None, "CH", "11.1", "Figure 9 is not cited in the text.", "Add a reference to Figure 9 in 11.1."),
    (
        None,
        "FR",
        "5.2",
        "The symbol u for the standard uncertainty is not defined.",
        "Add u to the list of symbols in Clause 4.",
    ),
    (None, "GB", "5.2", "Equation (3) has a sign error: the correction is subtracted twice.", "Correct Equation (3)."),
    (
        None,
        "US",
        "6.3",
        "Records may be kept in electronic form; the draft seems to require paper.",
        "Allow electronic records.",
    ),
    (
        None,
        "JP",
        "1",
        "The scope should mention that the document applies to calibration laboratories too.",
        "Add calibration laboratories to the scope.",
    ),
    (None, "NL", "3.4", "The note to entry of 3.4 repeats the definition.", "Delete Note 1 to entry in 3.4."),
    (
        None,
        "IT",
        "8.2",
        "The relative humidity during the test is not specified.",
        "Specify a relative humidity of (50 ± 10) %.",
    ),
    (
        None,
        "ES",
        "Annex B",
        "Table B.2 has no units in its column headings.",
        "Add units to the headings of Table B.2.",
    ),
    (
        None,
        "KR",
        "2",
        "ISO 14001 is listed as a normative reference but is never cited.",
        "Move ISO 14001 to the Bibliography.",
    ),
    (
        None,
        "CA",
        "10.2",
        "The term 'internal audit' should be defined in Clause 3.",
        "Add a definition of internal audit.",
    ),
    (
        None,
        "AU",
        "9.1",
        "The specimens shall be conditioned before the test; the draft does not say how long.",
        "Specify 24 h conditioning.",
    ),
    (
        None,
        "BE",
        "Introduction",
        "The introduction is too long and reads like a textbook.",
        "Shorten the introduction to one paragraph.",
    ),
    (None, "DK", "4", "Abbreviations should be in alphabetical order.", "Sort the list of abbreviated terms."),
    (
        None,
        "CN",
        "Annex C",
        "Annex C should give a worked example of the uncertainty budget.",
        "Add an example of an uncertainty budget to Annex C.",
    ),
    # -- one body says the same twice: never a group of its own ---------------------------------
    (None, "NO", "12.1", "The word 'should' is used in a note.", "Rephrase the note without 'should'."),
    (None, "NO", "12.2", "The word 'should' is used in a note.", "Rephrase the note without 'should'."),
]


def items(rows: list[Row] = ROWS) -> tuple[list[Item], dict[str, str | None]]:
    """The rows as engine items (references BODY-001 … per body) and each reference's label."""
    seen: dict[str, int] = {}
    out, labels = [], {}
    for label, body, clause, comment, change in rows:
        seen[body] = seen.get(body, 0) + 1
        key = f"{body}-{seen[body]:03d}"
        out.append(Item(key, body, clause, f"{comment}\n{change}"))
        labels[key] = label
    return out, labels


REAL = Path("/work/shared/reference/real/TC211_DIS19156ed2_comments-incl-TMG-CEN_om-swg_final-observations.docx")


def real_items() -> tuple[list[Item], set[frozenset[str]]] | None:
    """The resolved TC 211 DIS 19156 table (126 comments, 7 bodies) and its same-ask pairs, or None
    where the committee files are not at hand. Labels come from the secretariat, not from us: two
    comments of different bodies ask the same when the final table answers them with the same
    observation (the same decision, or the same GitHub issue that resolved them together) and they
    stand on the same or neighbouring clauses (one issue also collects unrelated editorial fixes
    from all over the document)."""
    if not REAL.exists():
        return None
    rows, _ = parse_compiled_table(REAL.read_bytes(), {})
    found = [Item(r.original_reference, r.body, r.clause, f"{r.comment}\n{r.proposed_change}") for r in rows]
    answer = {r.original_reference: (r.disposition, r.observation) for r in rows}
    same = {
        frozenset((a.key, b.key))
        for a, b in combinations(found, 2)
        if a.body != b.body and answer[a.key] == answer[b.key] and clause_factor(a.clause, b.clause) >= 1.0
    }
    return found, same


def labelled_pairs(found: list[Item], labels: dict[str, str | None]) -> set[frozenset[str]]:
    return {
        frozenset((a.key, b.key))
        for a, b in combinations(found, 2)
        if a.body != b.body and labels[a.key] is not None and labels[a.key] == labels[b.key]
    }


def grouped_pairs(found: list[Item], threshold: float = THRESHOLD) -> set[frozenset[str]]:
    groups = group(sorted(found, key=order_key), threshold)
    return {frozenset(pair) for g in groups for pair in combinations(g.references, 2)}


def precision_recall(predicted: set[frozenset[str]], truth: set[frozenset[str]]) -> tuple[float, float]:
    hits = len(predicted & truth)
    return (hits / len(predicted) if predicted else 1.0, hits / len(truth) if truth else 1.0)


if __name__ == "__main__":  # python -m tests.similar_comments: the figures for the report
    written, labels = items()
    truth, predicted = labelled_pairs(written, labels), grouped_pairs(written)
    real = real_items()
    if real is not None:
        truth |= real[1]
        predicted |= grouped_pairs(real[0])
        print("TC 211 DIS 19156:", precision_recall(grouped_pairs(real[0]), real[1]), len(real[1]), "pairs")
    print("written:", precision_recall(grouped_pairs(written), labelled_pairs(written, labels)))
    print("both:", precision_recall(predicted, truth), len(truth), "pairs")
