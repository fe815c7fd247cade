"""The release catalog is complete and consistent with the rest of kubeforge."""

from __future__ import annotations

import re

import pytest

from kubeforge.catalog import available_releases, load_release
from kubeforge.config.spec import ComponentsSpec
from kubeforge.gpu.compat import min_driver

RELEASES = available_releases()


@pytest.mark.parametrize("name", RELEASES)
def test_every_configurable_component_is_pinned(name):
    release = load_release(name)
    configurable = {field.alias for field in ComponentsSpec.model_fields.values()}
    assert configurable <= set(release.components)
    assert "volcano" in release.components  # installed by the scheduler settings


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
        assert min_driver(image.cuda) is not None, image.image


@pytest.mark.parametrize("name", RELEASES)
def test_every_pin_is_exact_and_cites_its_source(name):
    release = load_release(name)
    for key, pin in release.components.items():
        assert pin.source.startswith("https://"), key
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", pin.version), (key, pin.version)
        for chart in pin.charts:
            assert chart.version == pin.version, key
        if pin.manifests:
            assert all(f"ref={pin.version}" in url for url in pin.manifests.urls), key
    for image in [*release.images.values(), *release.platform_images.values()]:
        assert ":" in image.image and not image.image.endswith(":latest")
