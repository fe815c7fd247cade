"""The Volcano scheduler configuration kubeforge generates from ``scheduler:``: one behaviour per setting,
and Volcano's own default configuration at the pinned version kept wherever no setting changes it."""

from __future__ import annotations

import itertools

import pytest
import yaml

from components.scheduling.volcano import scheduler_conf, scheduler_conf_yaml
from kubeforge.catalog import load_release
from kubeforge.config.spec import SchedulerSpec
from tests.conftest import REFERENCE

PIN = load_release("2026.11").components["volcano"].charts[0]
DEFAULT_CONF = REFERENCE / "charts" / PIN.name / PIN.version / "config" / "volcano-scheduler.conf"

SETTINGS = [
    {"policy": policy, "gang": gang, "preemption": preemption, "queuePlugin": queue_plugin}
    for policy, gang, preemption, queue_plugin in itertools.product(
        ("binpack", "spread"), (True, False), (True, False), ("capacity", "proportion"))
]


def _ids(settings: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in settings.items())


def _conf(**settings) -> dict:
    return scheduler_conf(SchedulerSpec.model_validate(settings))


def _plugins(conf: dict) -> dict[str, dict]:
    return {p["name"]: p for tier in conf["tiers"] for p in tier["plugins"]}


def _tier_names(conf: dict) -> list[list[str]]:
    return [[p["name"] for p in tier["plugins"]] for tier in conf["tiers"]]


def _volcano_default() -> dict:
    if not DEFAULT_CONF.is_file():
        pytest.skip(f"Volcano's default scheduler configuration is not available: {DEFAULT_CONF} is absent")
    return yaml.safe_load(DEFAULT_CONF.read_text())


# --- policy ------------------------------------------------------------------------------


def test_binpack_policy_packs_gpus_first_with_a_high_gpu_weight():
    binpack = _plugins(_conf(policy="binpack"))["binpack"]
    assert binpack["arguments"] == {
        "binpack.weight": 10,
        "binpack.resources": "nvidia.com/gpu",
        "binpack.resources.nvidia.com/gpu": 10,
    }


def test_binpack_policy_turns_off_nodeorders_least_requested_scorer():
    assert _plugins(_conf(policy="binpack"))["nodeorder"]["arguments"] == {"leastrequested.weight": 0}


def test_spread_policy_has_no_binpack_and_favours_least_requested_nodes():
    plugins = _plugins(_conf(policy="spread"))
    assert "binpack" not in plugins
    assert plugins["nodeorder"]["arguments"] == {"leastrequested.weight": 10}


@pytest.mark.parametrize("policy", ["binpack", "spread"])
def test_plugin_weights_are_yaml_integers(policy):
    """Volcano ignores a weight it cannot read as an int (a quoted "10" would be dropped)."""
    arguments = [p.get("arguments", {}) for p in _plugins(yaml.safe_load(
        scheduler_conf_yaml(SchedulerSpec.model_validate({"policy": policy})))).values()]
    weights = [v for args in arguments for k, v in args.items() if k != "binpack.resources"]
    assert weights and all(type(w) is int for w in weights)


# --- gang ----------------------------------------------------------------------------------


def test_gang_on_runs_the_gang_plugin_as_volcanos_default_does():
    assert _plugins(_conf(gang=True))["gang"] == {"name": "gang", "enablePreemptable": False}


def test_gang_off_leaves_the_gang_plugin_out():
    assert "gang" not in _plugins(_conf(gang=False))
    assert _tier_names(_conf(gang=False))[0] == ["priority", "conformance"]


# --- preemption ----------------------------------------------------------------------------


def test_preemption_reclaims_then_preempts_after_everything_free_is_allocated():
    assert _conf(preemption=True)["actions"] == "enqueue, allocate, backfill, reclaim, preempt"


def test_without_preemption_no_action_evicts():
    assert _conf(preemption=False)["actions"] == "enqueue, allocate, backfill"


# --- queue plugin --------------------------------------------------------------------------


@pytest.mark.parametrize("queue_plugin,other", [("capacity", "proportion"), ("proportion", "capacity")])
def test_the_chosen_queue_plugin_runs_and_the_other_does_not(queue_plugin, other):
    names = _tier_names(_conf(queuePlugin=queue_plugin))
    assert names[1].count(queue_plugin) == 1
    assert other not in names[0] + names[1]


@pytest.mark.parametrize("settings", SETTINGS, ids=_ids)
def test_every_combination_runs_exactly_one_queue_plugin(settings):
    names = [n for tier in _tier_names(_conf(**settings)) for n in tier]
    assert sum(n in ("capacity", "proportion") for n in names) == 1
    assert len(names) == len(set(names))


# --- Volcano's default at the pinned version -----------------------------------------------

@pytest.mark.parametrize("settings", SETTINGS, ids=_ids)
def test_every_default_plugin_is_kept_unless_a_setting_removes_it(settings):
    removed = {"proportion"} | ({"binpack"} if settings["policy"] == "spread" else set()) \
        | (set() if settings["gang"] else {"gang"})
    default = _volcano_default()
    ours = _tier_names(_conf(**settings))
    for tier, default_tier in zip(ours, _tier_names(default), strict=True):
        kept = [name for name in default_tier if name not in removed]
        assert [name for name in tier if name in kept] == kept


def test_the_default_settings_are_volcanos_default_with_capacity_in_proportions_place():
    default = _volcano_default()
    expected = [[("capacity" if n == "proportion" else n) for n in tier] for tier in _tier_names(default)]
    assert _tier_names(_conf()) == expected


def test_the_flags_volcanos_default_sets_on_a_plugin_are_kept():
    default = _volcano_default()
    ours = _plugins(_conf())
    for name, plugin in _plugins(default).items():
        flags = {k: v for k, v in plugin.items() if k not in ("name", "arguments")}
        if name in ours:
            assert {k: ours[name].get(k) for k in flags} == flags, name
    assert any(len(p) > 1 for p in _plugins(default).values()), "the default sets flags (enablePreemptable)"


def test_volcanos_default_actions_come_first_in_their_order():
    default_actions = [a.strip() for a in _volcano_default()["actions"].split(",")]
    for settings in SETTINGS:
        actions = [a.strip() for a in _conf(**settings)["actions"].split(",")]
        assert actions[: len(default_actions)] == default_actions


@pytest.mark.parametrize("settings", SETTINGS, ids=_ids)
def test_the_yaml_the_chart_receives_is_the_configuration(settings):
    spec = SchedulerSpec.model_validate(settings)
    assert yaml.safe_load(scheduler_conf_yaml(spec)) == scheduler_conf(spec)
