"""The grading helper follows GB/Z 20986-2007 §5: importance × loss, or social impact, the more severe."""
import pytest

from models.errors import ValidationError
from models.grading import IMPORTANCE, LOSS, MATRIX, suggest


@pytest.mark.parametrize("importance, loss, grade", [
    ("critical", "extreme", "I"), ("critical", "serious", "II"), ("critical", "major", "III"),
    ("critical", "minor", "IV"), ("important", "extreme", "II"), ("important", "serious", "III"),
    ("important", "major", "IV"), ("ordinary", "extreme", "III"), ("ordinary", "serious", "IV"),
])
def test_matrix_follows_the_standard(importance, loss, grade):
    s = suggest(importance, loss)
    assert s.grade == grade and s.by_system == grade and s.by_impact is None
    assert s.reasons[0][0] == "grading.why_system"


def test_every_cell_has_a_grade_and_importance_never_lowers_it():
    order = ["I", "II", "III", "IV"]
    for loss in LOSS:
        ranks = [order.index(MATRIX[(imp, loss)]) for imp in IMPORTANCE]
        assert ranks == sorted(ranks), loss   # a more important system never gets a milder grade


def test_social_impact_wins_when_more_severe_and_says_so():
    s = suggest("ordinary", "minor", "major")
    assert (s.by_system, s.by_impact, s.grade) == ("IV", "II", "II")
    assert [k for k, _ in s.reasons] == ["grading.why_system", "grading.why_impact", "grading.why_max"]
    s = suggest("critical", "extreme", "general")
    assert s.grade == "I"


def test_incomplete_input_gives_no_system_grade_but_a_hint():
    s = suggest("critical", None, None)
    assert s.grade is None and s.reasons == (("grading.why_system_incomplete", {}),)
    assert suggest(None, None, "significant").grade == "III"
    assert suggest().grade is None and suggest(impact="none").grade is None


def test_unknown_factor_is_refused():
    with pytest.raises(ValidationError) as exc:
        suggest("huge", "minor")
    assert "importance" in exc.value.fields
