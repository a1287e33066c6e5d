"""Labels a user gives are checked by the service's rules; derived values are sanitised."""

from __future__ import annotations

import pytest

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.labels import check_labels, check_value, sanitize_value
from gemini_sft_kfp.core.lineage import lineage_of


@pytest.mark.parametrize("value", ["Ticket Routing", "x" * 64, "a.b", 3])
def test_an_invalid_label_value_is_refused_with_the_sanitised_suggestion(value):
    with pytest.raises(UserError) as refused:
        check_value(value, field="lineage")
    assert refused.value.field == "lineage"
    if value == "Ticket Routing":
        assert "'ticket-routing'" in str(refused.value)


@pytest.mark.parametrize("value", ["ticket-routing", "", "a_1", "x" * 63])
def test_a_valid_label_value_passes_and_is_what_the_lineage_becomes(value):
    check_value(value, field="lineage")
    assert sanitize_value(value) == value
    if value:
        assert lineage_of(value) == value  # checked up front = used as given


def test_labels_are_checked_key_and_value():
    check_labels({"team": "ml", "env": ""})
    for bad in ({"Team": "ml"}, {"team": "M L"}, {f"k{i}": "v" for i in range(65)}, ["x"]):
        with pytest.raises(UserError) as refused:
            check_labels(bad)
        assert refused.value.field == "labels"
