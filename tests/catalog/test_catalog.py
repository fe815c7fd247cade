"""The release catalog is complete and consistent with the rest of kubeforge."""

from __future__ import annotations

import re

import pytest

from kubeforge.catalog import available_releases, load_release
from kubeforge.config.spec import ComponentsSpec
from kubeforge.gpu.compat import min_driver

RELEASES = available_releases()


def test_every_component_any_release_pins_is_configurable():
    configurable = {field.alias for field in ComponentsSpec.model_fields.values()} | {"volcano"}
    pinned = {key for name in RELEASES for key in load_release(name).components}
    assert configurable == pinned


@pytest.mark.parametrize("name", RELEASES)
def test_every_release_installs_volcano_and_the_gpu_operator(name):
    assert {"volcano", "gpuOperator"} <= set(load_release(name).components)


@pytest.mark.parametrize("name", RELEASES)
def test_requirements_name_components_of_the_same_release(name):
    release = load_release(name)
    for key, pin in release.components.items():
        assert set(pin.requires) <= set(release.components), key
        assert key not in pin.requires


@pytest.mark.parametrize("name", RELEASES)
def test_every_eks_version_has_a_pinned_nvidia_ami(name):
    release = load_release(name)
    assert set(release.kubernetes.aws) <= set(release.eks_nvidia_ami)
    for minor, ami in release.eks_nvidia_ami.items():
        # <k8s major.minor.patch>-<YYYYMMDD>, for this Kubernetes minor.
        assert re.fullmatch(rf"{re.escape(minor)}\.\d+-20\d{{6}}", ami.release_version)


@pytest.mark.parametrize("name", RELEASES)
def test_every_offered_image_declares_a_cuda_version_nvidia_lists(name):
    for image in load_release(name).images.values():
        if image.cuda is not None:  # CPU images run anywhere
            assert min_driver(image.cuda) is not None, image.image


@pytest.mark.parametrize("name", RELEASES)
def test_every_pin_is_exact_and_cites_its_source(name):
    release = load_release(name)
    for key, pin in release.components.items():
        assert pin.source.startswith("https://"), key
        distribution = pin.manifests is not None and pin.manifests.ref == pin.version
        # A component's own semantic version; a distribution-level set carries the tag (26.03).
        assert re.fullmatch(r"[0-9]{2}\.[0-9]{2}" if distribution else r"v?\d+\.\d+\.\d+", pin.version), key
        for chart in pin.charts:
            assert chart.version == pin.version, key
        if pin.manifests:
            assert all(url.endswith(f"?ref={pin.manifests.git_ref}") for url in pin.manifests.urls), key
    for image in [*release.images.values(), *release.platform_images.values()]:
        assert ":" in image.image and not image.image.endswith(":latest")


# The charts each registered component installs by name from its pin.
CHARTS_BY_COMPONENT = {"istio": {"base", "cni", "istiod", "gateway"}, "certManager": {"cert-manager"},
                       "dex": {"dex"}, "oauth2Proxy": {"oauth2-proxy"}}


@pytest.mark.parametrize("name", RELEASES)
def test_every_release_pins_the_charts_its_components_install(name):
    release = load_release(name)
    for key, charts in CHARTS_BY_COMPONENT.items():
        if key in release.components:
            assert {c.name for c in release.components[key].charts} == charts, key


@pytest.mark.parametrize("name", RELEASES)
def test_a_charts_app_version_is_an_exact_tag(name):
    for key, pin in load_release(name).components.items():
        for chart in pin.charts:
            assert chart.app_version is None or re.fullmatch(r"v\d+\.\d+\.\d+", chart.app_version), key


def test_every_component_a_registered_component_reads_is_what_it_installs():
    """A registered component keyed by a catalog key installs that key's pin; the login
    installs two (Dex and oauth2-proxy) and the ingress gateway none of its own."""
    from components.registry import REGISTRY

    catalog_keys = {key for name in RELEASES for key in load_release(name).components}
    registered = {c.key for c in REGISTRY}
    assert {"certManager", "istio", "kubeflowCommon", "profiles", "podDefaults", "dashboard", "notebooks"} <= \
        registered & catalog_keys
    assert {"dex", "oauth2Proxy"}.isdisjoint(registered) and "login" in registered
