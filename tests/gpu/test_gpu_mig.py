"""MIG layouts under the GPU Operator's single and mixed strategies, and A100 placements."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kubeforge.gpu.compat import check, check_mig_layout, check_pool, parse_mig_layout
from kubeforge.gpu.facts import Gpu, facts

TODAY = dt.date(2026, 11, 25)


def errors_of(result) -> list[str]:
    return [f.message for f in result.findings if f.severity == "error" and f.rule == "mig-layout"]


# -- strategy single: one profile on every GPU -----------------------------------------------------


def test_single_strategy_rejects_a_layout_with_more_than_one_profile():
    errors = check_mig_layout("a100-80gb", parse_mig_layout("3g.40gb,2g.20gb,1g.10gb*2"), strategy="single")
    assert len(errors) == 1
    assert "MIG strategy single needs every MIG device on the node to be the same profile" in errors[0]
    assert "has 3g.40gb, 2g.20gb, 1g.10gb" in errors[0]


def test_single_strategy_error_suggests_the_fullest_one_profile_layouts_and_mixed():
    errors = check_mig_layout("a100-80gb", parse_mig_layout("3g.40gb,1g.10gb*2"), strategy="single")
    assert "e.g. 3g.40gb*2 or 1g.10gb*7, or use MIG strategy mixed" in errors[0]


@pytest.mark.parametrize("layout", ["1g.10gb*7", "3g.40gb*2", "2g.20gb*3", "7g.80gb", "1g.20gb*4"])
def test_single_strategy_accepts_one_profile(layout):
    assert check_mig_layout("a100-80gb", parse_mig_layout(layout), strategy="single") == []


def test_single_strategy_treats_a_media_extension_profile_as_another_device_type():
    errors = check_mig_layout("a100-40gb", parse_mig_layout("1g.5gb+me,1g.5gb*6"), strategy="single")
    assert any("has 1g.5gb+me, 1g.5gb" in e for e in errors)


def test_single_strategy_still_requires_the_layout_to_fit():
    errors = check_mig_layout("a100-40gb", parse_mig_layout("3g.20gb*3"), strategy="single")
    assert errors == ["MIG layout asks for 3x 3g.20gb on a100-40gb, but at most 2 fit on one GPU; use 2 or fewer",
                      "MIG layout 3g.20gb*3 uses 9 compute slices; a100-40gb has 7; drop or shrink instances",
                      "MIG layout 3g.20gb*3 needs 12 memory slices (60 GB); a100-40gb has 8 (40 GB); drop or shrink instances"]


# -- strategy mixed and the default ---------------------------------------------------------------


def test_mixed_strategy_accepts_a_layout_of_several_profiles():
    assert check_mig_layout("a100-80gb", parse_mig_layout("3g.40gb,2g.20gb,1g.10gb*2"), strategy="mixed") == []


def test_a_layout_checked_without_a_strategy_is_checked_as_mixed():
    layout = parse_mig_layout("3g.40gb,2g.20gb,1g.10gb*2")
    assert check("580.95.05", "12.8", gpu="a100-80gb", mig="3g.40gb,2g.20gb,1g.10gb*2", today=TODAY).ok
    assert check_mig_layout("a100-80gb", layout) == check_mig_layout("a100-80gb", layout, strategy="mixed")


@pytest.mark.parametrize("strategy", ["none", "Single", ""])
def test_a_strategy_other_than_single_or_mixed_is_a_value_error(strategy):
    with pytest.raises(ValueError, match="is not one of single, mixed"):
        check_mig_layout("a100-80gb", {"1g.10gb": 7}, strategy=strategy)


# -- passed through check and check_pool ----------------------------------------------------------


def test_check_reports_the_single_strategy_as_a_mig_layout_error_naming_the_pool():
    result = check("580.95.05", "12.8", gpu="a100-80gb", mig="3g.40gb,1g.10gb*4", mig_strategy="single",
                   pool="a100", today=TODAY)
    assert not result.ok
    assert {f.rule for f in result.findings if f.severity == "error"} == {"mig-layout"}
    assert errors_of(result)[0].startswith("pool a100: MIG strategy single needs")


def test_check_pool_passes_the_mig_strategy_to_every_image_check():
    mixed = check_pool("580.95.05", ["12.4", "13.0"], gpu="a100-80gb", mig="3g.40gb,1g.10gb*4", today=TODAY)
    single = check_pool("580.95.05", ["12.4", "13.0"], gpu="a100-80gb", mig="3g.40gb,1g.10gb*4",
                        mig_strategy="single", today=TODAY)
    assert mixed.ok
    assert len(errors_of(single)) == 1


def test_check_rejects_an_unknown_mig_strategy():
    with pytest.raises(ValueError, match="MIG strategy 'none'"):
        check("580.95.05", "12.8", gpu="a100-80gb", mig="1g.10gb*7", mig_strategy="none", today=TODAY)


# -- placements -----------------------------------------------------------------------------------


def test_a_layout_that_needs_the_upper_half_for_its_3g_instance_is_placed():
    # 3g.20gb must start at memory slice 4 here: at 0 it would leave 4-7, where 2g.10gb can
    # only start at 4 and 1g.5gb cannot use slice 7.
    assert check_mig_layout("a100-40gb", parse_mig_layout("3g.20gb,2g.10gb,1g.5gb*2")) == []


def _with_placements(card: Gpu, **placements: list[int]) -> Gpu:
    data = card.model_dump()
    for profile in data["profiles"]:
        profile["placements"] = placements.get(profile["name"].replace(".", "_").replace("+", "_"),
                                               profile["placements"])
    return Gpu.model_validate(data)


def test_a_layout_within_the_slices_is_rejected_when_its_instances_cannot_be_placed():
    a100 = facts().gpu("a100-40gb")
    stricter = _with_placements(a100, **{"1g_5gb": [0, 1, 2, 3, 4, 5]})
    data = facts().model_copy(update={"gpus": (stricter,)})
    errors = check_mig_layout("a100-40gb", parse_mig_layout("1g.5gb*7"), data=data)
    assert len(errors) == 1
    assert "fits a100-40gb's slices but cannot be placed" in errors[0]
    assert "1g.5gb at 0, 1, 2, 3, 4, 5" in errors[0]


@pytest.mark.parametrize("gpu", ["a100-40gb", "a100-80gb"])
def test_on_a100_every_layout_within_the_slice_and_instance_limits_can_be_placed(gpu):
    card = facts().gpu(gpu)
    checked = 0
    for counts in itertools.product(*(range(p.max_instances + 1) for p in card.profiles)):
        layout = {p.name: n for p, n in zip(card.profiles, counts) if n}
        compute = sum(p.compute_slices * n for p, n in zip(card.profiles, counts))
        memory = sum(p.memory_slices * n for p, n in zip(card.profiles, counts))
        if not layout or compute > card.compute_slices or memory > card.memory_slices:
            continue
        assert check_mig_layout(gpu, layout) == [], layout
        checked += 1
    assert checked > 100


def test_a_placement_running_past_the_card_is_rejected_when_the_facts_load():
    a100 = facts().gpu("a100-40gb")
    with pytest.raises(ValueError, match="placement 6 of 3g.20gb runs past the card's 8 memory slices"):
        _with_placements(a100, **{"3g_20gb": [0, 6]})
