"""The release catalog: one file per kubeforge release pinning every upstream component.

``kubeforge:platform.release`` names a catalog release (``releases/<release>.yaml``).
Components take their chart or manifest source and version from here and nowhere
else. A stack may move one component to another version only if some catalog release
pins that version for it (:func:`component_versions`); the component then uses that
release's whole pin (charts or manifests, at that version).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

RELEASES_DIR = resources.files("kubeforge.catalog") / "releases"


class _CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


class HelmChart(_CatalogModel):
    repository: str
    name: str
    version: str
    app_version: str | None = None
    """The application's image tag when it is not the chart's own appVersion (a chart that
    trails the application's releases): the component sets the chart's image tag to it."""


class ManifestSet(_CatalogModel):
    """Upstream manifests applied as published (kustomize directories at a git ref)."""

    urls: tuple[str, ...]
    version: str
    """The component's own version (what it is), e.g. v1.10.0."""
    ref: str | None = None
    """The git ref the URLs name, when it is not ``version``: a distribution's tag (e.g. the
    Kubeflow community distribution's 26.03) that packages the component at ``version``."""

    @property
    def git_ref(self) -> str:
        return self.ref or self.version


class KubernetesRange(_CatalogModel):
    """The Kubernetes minors a component supports, both ends included, with the source."""

    min: str = Field(pattern=r"^1\.[0-9]{2}$")
    max: str | None = Field(default=None, pattern=r"^1\.[0-9]{2}$")
    """None: no upper bound published."""
    source: str

    def admits(self, minor: str) -> bool:
        def key(v: str) -> tuple[int, int]:
            major, _, rest = v.partition(".")
            return int(major), int(rest)
        return key(self.min) <= key(minor) and (self.max is None or key(minor) <= key(self.max))

    def text(self) -> str:
        return f"{self.min} to {self.max}" if self.max else f"{self.min} or newer"


class ComponentPin(_CatalogModel):
    description: str
    """What the component is, for the configuration reference (docs/CONFIG.md)."""
    namespace: str
    charts: tuple[HelmChart, ...] = ()
    """Helm charts installed in order (e.g. CRDs first); all at the component's version."""
    manifests: ManifestSet | None = None
    source: str = Field(description="Release notes or tag the pin was read from.")
    other_versions: tuple[str, ...] = ()
    """Other published versions of the same source a stack may choose instead (an upgrade
    held back, or a rollback); each must exist upstream, cited in the release file."""
    kubernetes: KubernetesRange | None = None
    """Kubernetes minors the component supports; None where upstream publishes no range."""
    requires: tuple[str, ...] = ()
    """Components (catalog keys) this one cannot work without, e.g. notebooks need profiles."""
    pod_security: Literal["restricted", "baseline", "privileged"] = "baseline"
    """Pod Security Standard enforced on the component's namespace."""
    privileged_because: str | None = None
    """Why the component's pods need the privileged level: required with it."""
    enabled_by_default: bool = True
    """False: an alternative a stack opts into with ``components.<key>.enabled: true``."""
    creates_namespace: bool = False
    """Its manifests create and label its namespace themselves (Knative's serving-core.yaml):
    kubeforge does not create that namespace too."""
    mesh: bool = False
    """The component's pods run in the Istio mesh (sidecars): its namespace is labelled for
    injection where Istio is installed, as the distribution labels kubeflow and kubeflow-system."""

    @model_validator(mode="after")
    def _one_source(self) -> "ComponentPin":
        if bool(self.charts) == (self.manifests is not None):
            raise ValueError("a component pins either charts or manifests")
        if (self.pod_security == "privileged") != (self.privileged_because is not None):
            raise ValueError("podSecurity privileged needs privilegedBecause, and only it does")
        return self

    @property
    def version(self) -> str:
        return self.charts[0].version if self.charts else self.manifests.version  # type: ignore[union-attr]

    def chart(self, name: str) -> HelmChart:
        """The pinned chart called ``name`` (components with several charts, e.g. Istio's)."""
        for chart in self.charts:
            if chart.name == name:
                return chart
        raise KeyError(f"the pin has no chart {name!r}")

    def at_version(self, version: str) -> "ComponentPin":
        """The same source at another version: charts re-versioned, manifest refs re-tagged."""
        if version == self.version:
            return self
        charts = tuple(c.model_copy(update={"version": version}) for c in self.charts)
        manifests = None
        if self.manifests is not None:
            if self.manifests.ref is not None:
                raise ValueError(f"{version}: a distribution's manifests come only at the version it packages")
            urls = tuple(u.replace(f"ref={self.version}", f"ref={version}") for u in self.manifests.urls)
            manifests = self.manifests.model_copy(update={"urls": urls, "version": version})
        return self.model_copy(update={"charts": charts, "manifests": manifests, "other_versions": ()})


class WorkloadImage(_CatalogModel):
    """An image the platform offers to users, with the CUDA it was built on (None: a CPU image)."""

    image: str
    role: Literal["notebook", "training", "serving"]
    cuda: str | None = None
    """CUDA version the image was built with; every GPU pool's driver must run it. None: the
    image has no CUDA and runs anywhere."""
    ui: Literal["jupyter", "vscode", "rstudio"] = "jupyter"
    """Notebook images: which of the spawner's image lists offers it (Jupyter, VS Code-like,
    RStudio-like)."""
    source: str


class MetricSet(_CatalogModel):
    """The metrics one exporter publishes at the pinned version."""

    exporter: str
    source: str
    metrics: tuple[str, ...]
    histograms: tuple[str, ...] = ()
    """Those that are histograms: published as <name>_bucket, _sum and _count."""

    def series_names(self) -> frozenset[str]:
        """Every series name a query may use."""
        suffixed = {f"{h}{s}" for h in self.histograms for s in ("_bucket", "_sum", "_count")}
        return frozenset(set(self.metrics) - set(self.histograms)) | suffixed


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
    storage: dict[str, ComponentPin] = {}
    """Storage drivers and stores (components/storage), configured under ``storage:``, not
    ``components:``: each is installed only where the target and storage settings need it."""
    eks_addons: dict[str, "EksAddon"] = {}
    """EKS add-ons by add-on name, at the exact add-on version."""
    metrics: dict[str, MetricSet] = {}
    """What the pinned exporters publish (dcgm, volcano, kubeStateMetrics), for the dashboards
    and alert rules the monitoring component writes."""


class EksAmiRelease(_CatalogModel):
    """An EKS accelerated AMI release and the NVIDIA driver it ships."""

    release_version: str
    nvidia_driver: str
    source: str


class EksAddon(_CatalogModel):
    """An EKS add-on version (``aws eks describe-addon-versions``) and the driver it ships."""

    version: str
    source: str


Release.model_rebuild()


@lru_cache(maxsize=1)
def available_releases() -> tuple[str, ...]:
    return tuple(sorted(p.name[: -len(".yaml")] for p in RELEASES_DIR.iterdir() if p.name.endswith(".yaml")))


@lru_cache(maxsize=None)
def load_release(name: str) -> Release:
    if name not in available_releases():
        raise KeyError(f"no catalog release {name!r}")
    with (RELEASES_DIR / f"{name}.yaml").open() as f:
        return Release.model_validate(yaml.safe_load(f))


def component_descriptions() -> dict[str, str]:
    """Every component any release pins, with its description (newest release's wording)."""
    return {key: description for key, (description, _) in component_defaults().items()}


def component_defaults() -> dict[str, tuple[str, bool]]:
    """Every component any release pins: (description, enabled by default), newest release's."""
    out: dict[str, tuple[str, bool]] = {}
    for name in available_releases():
        out.update({key: (pin.description, pin.enabled_by_default) for key, pin in load_release(name).components.items()})
    return dict(sorted(out.items()))


def component_versions(key: str) -> dict[str, ComponentPin]:
    """The versions the catalog lists for one component, each with the pin that installs it."""
    out: dict[str, ComponentPin] = {}
    for name in available_releases():
        pin = load_release(name).components.get(key)
        if pin is not None:
            out[pin.version] = pin
            for version in pin.other_versions:
                out.setdefault(version, pin.at_version(version))
    return out


def version_table(name: str) -> str:
    """Markdown table of everything release ``name`` pins (docs/VERSIONS.md is generated from it)."""
    release = load_release(name)
    lines = [
        f"## Release {release.release}",
        "",
        "| component | namespace | source | version | Kubernetes | needs | pinned from |",
        "|---|---|---|---|---|---|---|",
    ]

    def row(key: str, pin: ComponentPin) -> str:
        sources = [f"{c.repository} `{c.name}`" + (f" (app `{c.app_version}`)" if c.app_version else "")
                   for c in pin.charts] or [f"`{u}`" for u in pin.manifests.urls]
        others = f" (also: {', '.join(f'`{v}`' for v in pin.other_versions)})" if pin.other_versions else ""
        k8s = pin.kubernetes.text() if pin.kubernetes else "-"
        needs = ", ".join(pin.requires) or "-"
        return (f"| {key} | `{pin.namespace}` | {'<br>'.join(sources)} | `{pin.version}`{others} | {k8s} | {needs} "
                f"| {pin.source} |")

    lines += [row(key, pin) for key, pin in sorted(release.components.items())]
    lines += [row(f"storage: {key}", pin) for key, pin in sorted(release.storage.items())]
    for name, addon in sorted(release.eks_addons.items()):
        lines.append(f"| EKS add-on | `kube-system` | `{name}` | `{addon.version}` | - | - | {addon.source} |")
    lines += ["", "| image | role | CUDA | source |", "|---|---|---|---|"]
    for key, image in sorted(release.images.items()):
        lines.append(f"| `{image.image}` | {image.role} | {image.cuda or 'CPU'} | {image.source} |")
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
