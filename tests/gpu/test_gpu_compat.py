"""kubeforge.gpu.compat: the pre-deploy driver/CUDA/MIG check."""

from __future__ import annotations

import datetime as dt

import pytest

from kubeforge.gpu.compat import (
    UnknownBranchError,
    branch_of,
    check,
    check_mig_layout,
    check_pool,
    min_driver,
    parse_mig_layout,
)

TODAY = dt.date(2026, 11, 23)

# NVIDIA CUDA Toolkit release notes, "Table 3: CUDA Toolkit and Corresponding Driver
# Versions", Linux x86_64, GA rows (13.2 and 13.3 from NVIDIA's archived 13.x notes).
# Written out here, independently of gpu-drivers/data/, so the data is checked against the table.
NVIDIA_GA_MIN_DRIVER = {
    "11.8": "520.61.05",
    "12.0": "525.60.13",
    "12.1": "530.30.02",
    "12.2": "535.54.03",
    "12.3": "545.23.06",
    "12.4": "550.54.14",
    "12.5": "555.42.02",
    "12.6": "560.28.03",
    "12.8": "570.26",
    "12.9": "575.51.03",
    "13.0": "580.65.06",
    "13.1": "590.44.01",
    "13.2": "595.45.04",
    "13.3": "610.43.02",
}
NVIDIA_UPDATE_MIN_DRIVER = {
    "12.2.2": "535.104.05",
    "12.6.3": "560.35.05",
    "12.8.1": "570.124.06",
    "12.9.1": "575.57.08",
    "13.0.2": "580.95.05",
}


def one_patch_below(driver: str) -> str:
    major, minor, *patch = (int(p) for p in driver.split("."))
    if patch and patch[0] > 0:
        return f"{major}.{minor}.{patch[0] - 1:02d}"
    return f"{major}.{minor - 1}.99"


def rules(result) -> set[str]:
    return {f.rule for f in result.findings if f.severity == "error"}


# -- NVIDIA's table, CUDA minor by CUDA minor ---------------------------------------------------


@pytest.mark.parametrize(("cuda", "driver"), NVIDIA_GA_MIN_DRIVER.items())
def test_nvidias_minimum_driver_is_accepted(cuda, driver):
    assert check(driver, cuda, allow_eol=True, today=TODAY).ok


@pytest.mark.parametrize(("cuda", "driver"), NVIDIA_GA_MIN_DRIVER.items())
def test_one_patch_below_nvidias_minimum_is_rejected(cuda, driver):
    result = check(one_patch_below(driver), cuda, allow_eol=True, today=TODAY)
    assert "cuda-min-driver" in rules(result)
    assert f"CUDA {cuda} needs driver >= {driver}" in result.errors[-1]


@pytest.mark.parametrize(("cuda", "driver"), NVIDIA_UPDATE_MIN_DRIVER.items())
def test_an_update_release_is_held_to_its_own_row(cuda, driver):
    assert check(driver, cuda, allow_eol=True, today=TODAY).ok
    assert not check(one_patch_below(driver), cuda, allow_eol=True, today=TODAY).ok


def test_min_driver_reports_nvidias_ga_minimum():
    assert str(min_driver("12.8")) == "570.26"


def test_cuda_13_4_needs_branch_r615_and_warns_that_the_minimum_is_unverified():
    on_615 = check("615.71.09", "13.4", today=TODAY)
    on_610 = check("610.43.02", "13.4", allow_eol=True, today=TODAY)
    assert on_615.ok and any("not verified" in w for w in on_615.warnings)
    assert "cuda-min-driver" in rules(on_610)


def test_a_cuda_release_missing_from_nvidias_table_is_an_error():
    result = check("580.95.05", "12.7", today=TODAY)
    assert rules(result) == {"cuda-known"}


def test_an_unknown_toolkit_update_names_the_known_ones():
    result = check("580.95.05", "12.8.5", today=TODAY)
    assert "12.8.0 (GA), 12.8.1 (Update 1)" in result.errors[0]


# -- the issue's example -------------------------------------------------------------------------


def test_an_old_pool_driver_gets_the_issue_message():
    result = check("550.127.05", "12.8", pool="a100", today=TODAY)
    assert "CUDA 12.8 needs driver >= 570.26; pool a100 pins 550.127.05 (R550, end of life); pin R580" in result.errors[-1]


# -- lifecycle ------------------------------------------------------------------------------------


def test_an_end_of_life_branch_is_rejected():
    result = check("535.261.03", "12.2", today=TODAY)
    assert rules(result) == {"branch-eol"}
    assert "R535, end of life since 2026-06" in result.errors[0]


def test_an_end_of_life_branch_is_a_warning_when_explicitly_allowed():
    result = check("535.261.03", "12.2", allow_eol=True, today=TODAY)
    assert result.ok and any("end-of-life drivers are allowed" in w for w in result.warnings)


def test_a_branch_is_supported_until_the_end_of_its_eol_month():
    assert check("535.261.03", "12.2", today=dt.date(2026, 6, 30)).ok
    assert not check("535.261.03", "12.2", today=dt.date(2026, 7, 1)).ok


def test_a_new_feature_branch_warns_and_suggests_a_production_branch():
    result = check("610.43.02", "13.3", today=dt.date(2026, 7, 1))
    assert result.ok
    assert any("new-feature branch" in w for w in result.warnings)


def test_a_supported_ltsb_driver_passes_without_warnings():
    result = check("580.95.05", "13.0", gpu="a100-80gb", today=TODAY)
    assert result.ok and result.warnings == []


def test_a_branch_missing_from_the_data_is_an_error():
    assert "branch-known" in rules(check("999.10.01", "12.8", today=TODAY))


def test_branch_of_names_the_branch():
    assert branch_of("580.95.05").name == "R580"


def test_branch_of_rejects_a_branch_missing_from_the_data():
    with pytest.raises(UnknownBranchError, match="R999"):
        branch_of("999.1.1")


# -- compatibility modes --------------------------------------------------------------------------


def test_minor_version_compatibility_is_accepted_only_when_asked():
    strict = check("580.95.05", "13.2", today=TODAY)
    relaxed = check("580.95.05", "13.2", minor_compat=True, today=TODAY)
    assert "cuda-min-driver" in rules(strict) and "--minor-compat" in strict.errors[0]
    assert relaxed.ok and any("limited feature set" in w for w in relaxed.warnings)


def test_minor_version_compatibility_does_not_cross_a_cuda_major():
    result = check("580.95.05", "13.4", minor_compat=True, today=TODAY)
    assert result.ok  # R580 is inside the 13.x range
    result = check("575.57.08", "13.0", minor_compat=True, allow_eol=True, today=TODAY)
    assert "cuda-min-driver" in rules(result)


def test_forward_compatibility_lets_a_supported_branch_run_newer_cuda():
    result = check("580.95.05", "13.2", forward_compat=True, gpu="a100-80gb", today=TODAY)
    assert result.ok
    assert any("cuda-compat-13-2" in w for w in result.warnings)


def test_forward_compatibility_is_refused_on_an_end_of_life_branch():
    result = check("535.261.03", "13.0", forward_compat=True, allow_eol=True, today=TODAY)
    assert "forward-compat" in rules(result)


def test_forward_compatibility_is_reported_as_unneeded_when_the_driver_suffices():
    result = check("580.95.05", "12.8", forward_compat=True, today=TODAY)
    assert result.ok and any("not needed" in w for w in result.warnings)


def test_check_pool_reports_the_most_demanding_image():
    result = check_pool("580.95.05", ["12.4", "13.0", "13.2"], pool="a100", today=TODAY)
    assert len(result.errors) == 1 and "CUDA 13.2 needs driver >= 595.45.04" in result.errors[0]


# -- MIG --------------------------------------------------------------------------------------------


def test_parse_mig_layout_reads_counts_and_repeats():
    assert parse_mig_layout("3g.40gb, 1g.10gb*2,1g.10gb") == {"3g.40gb": 1, "1g.10gb": 3}


@pytest.mark.parametrize("layout", ["1g.10gb*7", "3g.40gb,2g.20gb,1g.10gb*2", "4g.40gb,3g.40gb", "7g.80gb",
                                    "3g.40gb*2", "2g.20gb*3,1g.10gb"])
def test_a_layout_that_fits_an_a100_80gb_is_valid(layout):
    assert check_mig_layout("a100-80gb", parse_mig_layout(layout)) == []


def test_a_layout_over_seven_compute_slices_is_rejected():
    errors = check_mig_layout("a100-40gb", parse_mig_layout("4g.20gb,2g.10gb,1g.5gb*2"))
    assert any("uses 8 compute slices; a100-40gb has 7" in e for e in errors)


def test_a_layout_over_the_cards_memory_is_rejected():
    errors = check_mig_layout("a100-80gb", parse_mig_layout("3g.40gb*2,1g.10gb"))
    assert errors == ["MIG layout 3g.40gb*2,1g.10gb needs 9 memory slices (90 GB); a100-80gb has 8 (80 GB); "
                      "drop or shrink instances"]


def test_a_layout_over_a_profiles_instance_limit_is_rejected():
    errors = check_mig_layout("a100-40gb", parse_mig_layout("1g.10gb*5"))
    assert any("at most 4 fit on one GPU" in e for e in errors)


def test_a_profile_from_the_other_card_is_unknown():
    errors = check_mig_layout("a100-40gb", parse_mig_layout("3g.40gb"))
    assert errors[0].startswith("MIG profile 3g.40gb does not exist on a100-40gb; its profiles are 1g.5gb")


def test_check_rejects_an_invalid_layout_and_names_the_pool():
    result = check("580.95.05", "12.8", gpu="a100-40gb", mig="7g.40gb,1g.5gb", pool="a100", today=TODAY)
    assert rules(result) == {"mig-layout"} and result.errors[0].startswith("pool a100: MIG layout")


def test_check_needs_the_gpu_model_for_a_mig_layout():
    assert "mig-layout" in rules(check("580.95.05", "12.8", mig="1g.10gb*7", today=TODAY))


# -- bad syntax -------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["580", "580.95.05.1", "r580.95", "580.95.x", ""])
def test_a_malformed_driver_version_is_a_value_error(driver):
    with pytest.raises(ValueError, match="not a driver version"):
        check(driver, "12.8")


@pytest.mark.parametrize("cuda", ["12", "cuda12.8", "12.8.1.0", "twelve"])
def test_a_malformed_cuda_version_is_a_value_error(cuda):
    with pytest.raises(ValueError, match="not a CUDA version"):
        check("580.95.05", cuda)


@pytest.mark.parametrize(("layout", "says"), [
    ("", "is empty"),
    ("3g.40gb,,1g.10gb", "empty entry"),
    ("3g40gb", "not a MIG profile name"),
    ("1g.10gb*0", "not a positive whole number"),
    ("1g.10gb*x", "not a positive whole number"),
])
def test_a_malformed_mig_layout_is_a_value_error(layout, says):
    with pytest.raises(ValueError, match=says):
        parse_mig_layout(layout)
