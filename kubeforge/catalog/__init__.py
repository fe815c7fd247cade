"""The release catalog: one file per kubeforge release pinning every upstream component.

``kubeforge:platform.release`` names a catalog release (``releases/<release>.yaml``).
Components take their chart or manifest source and version from here and nowhere
else; a stack may override a component's version, which the catalog records as an
override in the rendered output.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

RELEASES_DIR = Path(__file__).parent / "releases"


class _CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


class HelmChart(_CatalogModel):
    repository: str
    name: str
    version: str


class ManifestSet(_CatalogModel):
    """Upstream manifests applied as published (kustomize output or release YAML)."""

    urls: tuple[str, ...]
    version: str


class ComponentPin(_CatalogModel):
    namespace: str
    charts: tuple[HelmChart, ...] = ()
    """Helm charts installed in order (e.g. CRDs first); all at the component's version."""
    manifests: ManifestSet | None = None
    source: str = Field(description="Release notes or tag the pin was read from.")

    @model_validator(mode="after")
    def _one_source(self) -> "ComponentPin":
        if bool(self.charts) == (self.manifests is not None):
            raise ValueError("a component pins either charts or manifests")
        return self

    @property
    def version(self) -> str:
        return self.charts[0].version if self.charts else self.manifests.version  # type: ignore[union-attr]


class WorkloadImage(_CatalogModel):
    """An image the platform offers to users on GPU pools, with the CUDA it was built on."""

    image: str
    role: Literal["notebook", "training", "serving"]
    cuda: str
    source: str


class PlatformImage(_CatalogModel):
    """An image kubeforge itself runs (not a user workload image)."""

    image: str
    source: str


class KubernetesSupport(_CatalogModel):
    aws: tuple[str, ...]
    gcp: tuple[str, ...]
    onprem: tuple[str, ...]
    source: str


class Release(_CatalogModel):
    release: str
    kubernetes: KubernetesSupport
    components: dict[str, ComponentPin]
    images: dict[str, WorkloadImage]
    platform_images: dict[str, PlatformImage]
    eks_nvidia_ami: dict[str, "EksAmiRelease"] = Field(alias="eksNvidiaAmi")


class EksAmiRelease(_CatalogModel):
    """An EKS accelerated AMI release and the NVIDIA driver it ships."""

    release_version: str
    nvidia_driver: str
    source: str


Release.model_rebuild()


def available_releases() -> list[str]:
    return sorted(p.stem for p in RELEASES_DIR.glob("*.yaml"))


@lru_cache(maxsize=None)
def load_release(name: str) -> Release:
    path = RELEASES_DIR / f"{name}.yaml"
    with path.open() as f:
        return Release.model_validate(yaml.safe_load(f))


def version_table(name: str) -> str:
    """Markdown table of everything release ``name`` pins (docs/VERSIONS.md is generated from it)."""
    release = load_release(name)
    lines = [
        f"## Release {release.release}",
        "",
        "| component | namespace | source | version | pinned from |",
        "|---|---|---|---|---|",
    ]
    for key, pin in sorted(release.components.items()):
        sources = [f"{c.repository} `{c.name}`" for c in pin.charts] or [f"`{u}`" for u in pin.manifests.urls]
        lines.append(f"| {key} | `{pin.namespace}` | {'<br>'.join(sources)} | `{pin.version}` | {pin.source} |")
    lines += ["", "| image | role | CUDA | source |", "|---|---|---|---|"]
    for key, image in sorted(release.images.items()):
        lines.append(f"| `{image.image}` | {image.role} | {image.cuda} | {image.source} |")
    for key, image in sorted(release.platform_images.items()):
        lines.append(f"| `{image.image}` | kubeforge ({key}) | - | {image.source} |")
    lines += ["", "| Kubernetes | EKS AL2023 NVIDIA AMI release | NVIDIA driver it ships | source |", "|---|---|---|---|"]
    for minor, ami in sorted(release.eks_nvidia_ami.items()):
        lines.append(f"| {minor} | `{ami.release_version}` | `{ami.nvidia_driver}` | {ami.source} |")
    k8s = release.kubernetes
    lines += ["", f"Kubernetes minors supported: aws {', '.join(k8s.aws)}; gcp {', '.join(k8s.gcp)}; "
              f"onprem {', '.join(k8s.onprem)} ({k8s.source}).", ""]
    return "\n".join(lines)


def versions_document() -> str:
    header = [
        "# Upstream versions",
        "",
        "Generated from `kubeforge/catalog/releases/` by `kubeforge docs versions`; do not edit by hand.",
        "A stack picks a release with `kubeforge:platform.release`; `components.<name>.version` overrides one pin.",
        "",
    ]
    return "\n".join(header) + "\n" + "\n".join(version_table(name) for name in available_releases())
