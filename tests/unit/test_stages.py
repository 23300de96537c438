from __future__ import annotations

import pytest

from schemas.enums import BallotType, Deliverable
from services.rules.draft_names import document_name
from services.rules.stage_codes import STAGE_NAMES, is_valid_stage
from services.rules.stages import (
    Decision,
    StageError,
    allowed_decisions,
    decision,
    stage_on_close,
    stage_on_open,
)

IS = Deliverable.IS
TS = Deliverable.TS

# (ballot type, deliverable, a stage it may open from, stage on open, stage on close)
OPEN_CLOSE = [
    (BallotType.NP, IS, "10.00", "10.20", "10.60"),
    (BallotType.WD, IS, "20.00", "20.20", "20.60"),
    (BallotType.CD_CONSULTATION, IS, "30.00", "30.20", "30.60"),
    (BallotType.CD, IS, "30.00", "30.20", "30.60"),
    (BallotType.DIS, IS, "40.00", "40.20", "40.60"),
    (BallotType.FDIS, IS, "50.00", "50.20", "50.60"),
    (BallotType.DTS, TS, "50.00", "50.20", "50.60"),
    (BallotType.DTR, Deliverable.TR, "50.00", "50.20", "50.60"),
    (BallotType.DPAS, Deliverable.PAS, "50.00", "50.20", "50.60"),
    (BallotType.SR, IS, "60.60", "90.20", "90.60"),
    (BallotType.WITHDRAWAL, IS, "90.99", "95.20", "95.60"),
]


def test_stage_names_cover_the_iso_matrix() -> None:
    assert STAGE_NAMES["40.60"] == "Close of voting"
    assert STAGE_NAMES["10.99"] == "New project approved"
    assert STAGE_NAMES["95.99"] == "Withdrawal of International Standard"
    assert len(STAGE_NAMES) == 46
    assert all(is_valid_stage(code) for code in STAGE_NAMES)


def test_codes_outside_the_iso_matrix_are_not_valid_stages() -> None:
    for code in ("29.20", "90.00", "95.00", "40.9", "4020", "", " 40.20", "40.20 "):
        assert not is_valid_stage(code), code


@pytest.mark.parametrize(("ballot_type", "deliverable", "ready", "opens", "closes"), OPEN_CLOSE)
def test_every_ballot_type_opens_and_closes_at_its_stage(
    ballot_type: BallotType, deliverable: Deliverable, ready: str, opens: str, closes: str
) -> None:
    assert stage_on_open(ballot_type, deliverable, ready) == opens
    assert stage_on_close(ballot_type) == closes
    assert is_valid_stage(opens) and is_valid_stage(closes)


def test_cib_never_moves_the_stage() -> None:
    assert stage_on_open(BallotType.CIB, IS, "30.20") is None
    assert stage_on_open(BallotType.CIB, TS, "not a stage") is None
    assert stage_on_close(BallotType.CIB) is None
    assert allowed_decisions(BallotType.CIB, IS, True) == ()


@pytest.mark.parametrize(
    ("ballot_type", "deliverable", "current"),
    [
        (BallotType.NP, IS, "00.99"),
        (BallotType.NP, IS, "10.92"),
        (BallotType.WD, IS, "10.99"),
        (BallotType.CD, IS, "20.99"),
        (BallotType.CD, IS, "30.60"),
        (BallotType.CD, IS, "30.92"),
        (BallotType.CD, IS, "40.92"),
        (BallotType.CD_CONSULTATION, TS, "20.99"),
        (BallotType.DIS, IS, "30.99"),
        (BallotType.DIS, IS, "40.93"),
        (BallotType.FDIS, IS, "40.99"),
        (BallotType.FDIS, Deliverable.AMD, "50.00"),
        (BallotType.SR, IS, "90.93"),
    ],
)
def test_ballots_open_from_the_previous_proceed_code_and_repeat_codes(
    ballot_type: BallotType, deliverable: Deliverable, current: str
) -> None:
    assert stage_on_open(ballot_type, deliverable, current) is not None


def test_opening_from_a_wrong_stage_names_both_stages() -> None:
    with pytest.raises(StageError) as err:
        stage_on_open(BallotType.DIS, IS, "20.20")
    message = str(err.value)
    assert "20.20" in message
    assert "40.20" in message
    assert "40.00" in message
    assert "DIS" in message


def test_a_stage_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        stage_on_open(BallotType.FDIS, IS, "40.60")


def test_a_running_ballot_cannot_be_opened_again() -> None:
    for ballot_type, deliverable, _ready, opens, _closes in OPEN_CLOSE:
        with pytest.raises(StageError):
            stage_on_open(ballot_type, deliverable, opens)


def test_a_closed_ballot_needs_a_decision_before_the_next_one() -> None:
    # WD and CD are exceptions: the next iteration opens straight after the previous one.
    iterating = {BallotType.WD, BallotType.CD, BallotType.CD_CONSULTATION}
    for ballot_type, deliverable, _ready, _opens, closes in OPEN_CLOSE:
        if ballot_type in iterating:
            assert stage_on_open(ballot_type, deliverable, closes) is not None
        else:
            with pytest.raises(StageError):
                stage_on_open(ballot_type, deliverable, closes)


def test_a_new_cd_iteration_opens_after_the_previous_cd_closed() -> None:
    assert stage_on_open(BallotType.CD, IS, "30.60") == "30.20"
    assert stage_on_open(BallotType.CD_CONSULTATION, IS, "30.60") == "30.20"


def test_fdis_requires_an_international_standard_amendment_or_corrigendum() -> None:
    for deliverable in (TS, Deliverable.PAS, Deliverable.TR):
        with pytest.raises(StageError, match=deliverable.value):
            stage_on_open(BallotType.FDIS, deliverable, "50.00")


def test_a_ts_skips_the_enquiry_and_goes_from_the_committee_stage_to_dts() -> None:
    proceed = decision(BallotType.CD, TS, True, "30.99")
    assert proceed.path == ("30.99", "50.00")
    assert stage_on_open(BallotType.DTS, TS, "30.99") == "50.20"
    with pytest.raises(StageError):
        stage_on_open(BallotType.DIS, TS, "30.99")


def test_an_is_goes_from_the_committee_stage_to_the_enquiry() -> None:
    assert decision(BallotType.CD, IS, True, "30.99").path == ("30.99", "40.00")
    assert decision(BallotType.CD_CONSULTATION, IS, None, "30.99").path == ("30.99", "40.00")


@pytest.mark.parametrize(
    ("ballot_type", "deliverable"),
    [(BallotType.DTS, TS), (BallotType.DTR, Deliverable.TR), (BallotType.DPAS, Deliverable.PAS)],
)
def test_stage_50_ballots_require_their_own_deliverable(ballot_type: BallotType, deliverable: Deliverable) -> None:
    assert stage_on_open(ballot_type, deliverable, "30.99") == "50.20"
    with pytest.raises(StageError):
        stage_on_open(ballot_type, IS, "50.00")


def test_the_dts_proceed_decision_leads_to_publication() -> None:
    d = decision(BallotType.DTS, TS, True, "50.99")
    assert d.path == ("50.99", "60.00")
    assert "DTS" in d.label


# --- decisions -------------------------------------------------------------------------------


def codes(decisions: tuple[Decision, ...]) -> list[str]:
    return [d.code for d in decisions]


@pytest.mark.parametrize(
    ("ballot_type", "deliverable"),
    [
        (BallotType.NP, IS),
        (BallotType.CD, IS),
        (BallotType.CD, TS),
        (BallotType.DIS, IS),
        (BallotType.FDIS, IS),
        (BallotType.DTS, TS),
        (BallotType.DTR, Deliverable.TR),
        (BallotType.DPAS, Deliverable.PAS),
        (BallotType.WITHDRAWAL, IS),
    ],
)
def test_a_failed_ballot_never_offers_the_proceed_decision(ballot_type: BallotType, deliverable: Deliverable) -> None:
    failed = allowed_decisions(ballot_type, deliverable, False)
    assert failed, "a failed ballot must leave the secretary some decision"
    assert not any(d.code.endswith(".99") or d.path[0].endswith(".99") for d in failed)
    passed = allowed_decisions(ballot_type, deliverable, True)
    assert any(d.path[0].endswith(".99") for d in passed)


def test_a_failed_systematic_review_is_not_confirmed() -> None:
    assert codes(allowed_decisions(BallotType.SR, IS, False)) == ["90.92", "90.99"]
    assert codes(allowed_decisions(BallotType.SR, IS, True)) == ["90.93", "90.92", "90.99"]


def test_np_decisions() -> None:
    assert codes(allowed_decisions(BallotType.NP, IS, True)) == ["10.99", "10.92"]
    assert codes(allowed_decisions(BallotType.NP, IS, False)) == ["10.92", "10.98"]
    assert decision(BallotType.NP, IS, True, "10.99").path == ("10.99", "20.00")


def test_dis_offers_fdis_or_skipping_fdis_when_approved() -> None:
    approved = allowed_decisions(BallotType.DIS, IS, True)
    assert codes(approved) == ["40.99", "60.00", "40.92", "40.93", "40.98"]
    assert decision(BallotType.DIS, IS, True, "40.99").path == ("40.99", "50.00")
    skip = decision(BallotType.DIS, IS, True, "60.00")
    assert skip.path == ("40.99", "60.00")
    assert "FDIS skipped" in skip.label
    assert codes(allowed_decisions(BallotType.DIS, IS, False)) == ["40.92", "40.93", "40.98"]


def test_an_approved_fdis_only_goes_to_publication() -> None:
    assert codes(allowed_decisions(BallotType.FDIS, IS, True)) == ["50.99"]
    assert codes(allowed_decisions(BallotType.FDIS, IS, False)) == ["50.92", "50.98"]


def test_withdrawal_decisions_follow_the_member_vote() -> None:
    assert codes(allowed_decisions(BallotType.WITHDRAWAL, IS, True)) == ["95.99"]
    assert codes(allowed_decisions(BallotType.WITHDRAWAL, IS, False)) == ["95.92"]


def test_comment_only_ballots_offer_every_decision() -> None:
    for approved in (None, False, True):
        assert codes(allowed_decisions(BallotType.WD, IS, approved)) == ["20.99", "20.98"]
        assert codes(allowed_decisions(BallotType.CD_CONSULTATION, IS, approved)) == [
            "30.99",
            "30.92",
            "30.98",
        ]


def test_approved_none_offers_all_decisions() -> None:
    assert codes(allowed_decisions(BallotType.DIS, IS, None)) == [
        "40.99",
        "60.00",
        "40.92",
        "40.93",
        "40.98",
    ]


def test_every_decision_path_starts_with_a_valid_stage_and_ends_in_one() -> None:
    for ballot_type in BallotType:
        for deliverable in Deliverable:
            for d in allowed_decisions(ballot_type, deliverable, None):
                assert all(is_valid_stage(code) for code in d.path), d
                assert d.requires in ("approved", "not_approved", "any")


def test_a_decision_the_result_does_not_allow_raises_with_the_allowed_list() -> None:
    with pytest.raises(StageError) as err:
        decision(BallotType.DIS, IS, False, "40.99")
    assert str(err.value) == (
        "Decision 40.99 is not allowed: the ballot was not approved. Allowed: 40.92, 40.93, 40.98"
    )


def test_a_decision_foreign_to_the_ballot_type_raises() -> None:
    with pytest.raises(StageError, match=r"50\.99"):
        decision(BallotType.DIS, IS, True, "50.99")
    with pytest.raises(StageError, match="CIB"):
        decision(BallotType.CIB, IS, True, "30.99")


# --- document names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "deliverable", "stage", "iteration", "year", "expected"),
    [
        ("ISO/TS 19387", TS, "20.00", 1, None, "ISO/AWI TS 19387"),
        ("ISO/TS 19387", TS, "30.20", 2, None, "ISO/CD TS 19387.2"),
        ("ISO/TS 19387", TS, "30.20", 1, None, "ISO/CD TS 19387"),
        ("ISO/TS 19387", TS, "50.20", 1, None, "ISO/DTS 19387"),
        ("ISO/TR 10013", Deliverable.TR, "50.00", 1, None, "ISO/DTR 10013"),
        ("ISO/PAS 5643", Deliverable.PAS, "50.60", 1, None, "ISO/DPAS 5643"),
        ("ISO/TS 19387", TS, "60.60", 1, 2024, "ISO/TS 19387:2024"),
        ("ISO 11367", IS, "00.20", 1, None, "ISO/PWI 11367"),
        ("ISO 11367", IS, "10.20", 1, None, "ISO/NP 11367"),
        ("ISO 11367", IS, "10.99", 1, None, "ISO/AWI 11367"),
        ("ISO 11367", IS, "20.20", 1, None, "ISO/WD 11367"),
        ("ISO 11367", IS, "20.99", 1, None, "ISO/WD 11367"),
        ("ISO 11367", IS, "40.20", 1, None, "ISO/DIS 11367"),
        ("ISO 11367", IS, "40.20", 2, None, "ISO/DIS 11367.2"),
        ("ISO 11367", IS, "50.20", 1, None, "ISO/FDIS 11367"),
        ("ISO 11367", IS, "60.00", 1, None, "ISO/PRF 11367"),
        ("ISO 11367", IS, "60.60", 1, 2025, "ISO 11367:2025"),
        ("ISO 11367", IS, "90.20", 1, 2025, "ISO 11367:2025"),
        ("ISO 11367:2019", IS, "90.93", 1, None, "ISO 11367:2019"),
        ("ISO 11367:2019", IS, "30.20", 1, None, "ISO/CD 11367"),
        ("ISO/DIS 11367.2", IS, "50.20", 1, None, "ISO/FDIS 11367"),
        ("ISO 23592-1", IS, "40.60", 1, None, "ISO/DIS 23592-1"),
        ("ISO/IEC 27001", IS, "40.20", 1, None, "ISO/IEC DIS 27001"),
        ("ISO/IEC TS 27006", TS, "50.20", 1, None, "ISO/IEC DTS 27006"),
        ("ISO 17303-1:2016/Amd 1", Deliverable.AMD, "10.20", 1, None, "ISO 17303-1:2016/NP Amd 1"),
        ("ISO 17303-1:2016/Amd 1", Deliverable.AMD, "40.20", 1, None, "ISO 17303-1:2016/DAmd 1"),
        ("ISO 17303-1:2016/Amd 1", Deliverable.AMD, "50.20", 1, None, "ISO 17303-1:2016/FDAmd 1"),
        ("ISO 17303-1:2016/Amd 1", Deliverable.AMD, "60.60", 1, 2025, "ISO 17303-1:2016/Amd 1:2025"),
        ("ISO 9001:2015/Cor 1", Deliverable.COR, "60.00", 1, None, "ISO 9001:2015/PRF Cor 1"),
    ],
)
def test_document_name_follows_the_stage(
    reference: str,
    deliverable: Deliverable,
    stage: str,
    iteration: int,
    year: int | None,
    expected: str,
) -> None:
    assert document_name(reference, deliverable, stage, iteration, year) == expected


@pytest.mark.parametrize(
    ("reference", "stage"),
    [
        ("", "40.20"),
        ("no number here", "40.20"),
        ("ISO 11367", "bogus"),
        ("ISO 11367", ""),
        ("ISO 11367/Amd", "40.20"),
        ("  ", "60.60"),
        ("ISO ²", "30.20"),
    ],
)
def test_document_name_never_raises_on_odd_input(reference: str, stage: str) -> None:
    name = document_name(reference, Deliverable.AMD, stage)
    assert isinstance(name, str)
    name = document_name(reference, IS, stage, iteration=3, year=2025)
    assert isinstance(name, str)


def test_document_name_with_an_unknown_stage_returns_the_reference() -> None:
    assert document_name("ISO 11367", IS, "bogus") == "ISO 11367"
