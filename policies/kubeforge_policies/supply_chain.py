"""What the stack pulls from upstream is pinned: Helm charts to an exact version from an
HTTPS or OCI repository, kustomize directories to an exact git ref (a release tag or a
commit), never a branch or a range."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubeforge_policies.model import PolicyResource, as_dict
from kubeforge_policies.rule import Issue, Rule

HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
KUSTOMIZE_TYPES = ("kubernetes:kustomize/v2:Directory", "kubernetes:kustomize:Directory")
# An exact SemVer 2.0 version (Helm's chart versions), with the "v" many charts use.
# Ref: https://helm.sh/docs/topics/charts/#charts-and-versioning
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
# A release tag: a version (v1.10.0, 26.03, 2.16.0-rc.1), optionally after a component prefix
# (e.g. "kfp/2.16.0", "sdk-2.16.0").
RELEASE_TAG = re.compile(r"^([A-Za-z0-9_.-]+[/-])?v?\d+(\.\d+)+([-+][0-9A-Za-z.-]+)?$")


def _chart_ref(r: PolicyResource) -> str:
    return str(r.get("chart") or "")


def helm_version_pinned(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    chart, version = _chart_ref(r), r.get("version")
    if chart.startswith(("oci://", "https://")) and "@sha256:" in chart:
        return  # pinned by digest
    if not version:
        yield Issue(f"chart {chart} has no version, so Helm installs whatever is newest",
                    f"set version to the exact chart version the catalog pins for {chart}")
    elif not EXACT_VERSION.match(str(version)):
        yield Issue(f"chart {chart} version {version} is a range, not one version",
                    "set version to one exact chart version (e.g. 1.2.3), as pinned in the catalog")


def helm_repository_secure(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    repo = str(as_dict(r.get("repositoryOpts")).get("repo") or "")
    chart = _chart_ref(r)
    source = repo or (chart if "://" in chart else "")
    if source and not source.startswith(("https://", "oci://")):
        yield Issue(f"chart {chart} comes from {source}, over a connection that is not authenticated",
                    "fetch charts from an https:// or oci:// repository")


def _ref(url: str) -> str | None:
    refs = parse_qs(urlsplit(url).query).get("ref")
    return refs[-1] if refs else None


def kustomize_ref_pinned(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    directory = str(r.get("directory") or "")
    remote = "://" in directory or directory.startswith(("github.com/", "git@"))
    if not remote:
        return  # a directory in this repository is pinned by the repository's own commit
    ref = _ref(directory)
    if ref is None:
        yield Issue(f"directory {directory} names no git ref, so it follows the default branch",
                    f"append ?ref=<release tag> (the catalog's pin) to {directory}")
    elif not (COMMIT.match(ref) or RELEASE_TAG.match(ref)):
        yield Issue(f"directory {directory} follows ref {ref}, which is not a release tag or a commit",
                    "use ?ref=<release tag> or ?ref=<40-hex commit>")


RULES = (
    Rule("helm-chart-version-pinned", "Helm charts are pinned to one exact version.", "high", helm_version_pinned,
         "version: <exact chart version>", resource_types=HELM_TYPES,
         reference="https://helm.sh/docs/topics/charts/#charts-and-versioning"),
    Rule("helm-chart-repository-secure", "Helm charts come from https:// or oci:// repositories.", "medium",
         helm_repository_secure, "repositoryOpts.repo https:// or oci://", resource_types=HELM_TYPES),
    Rule("kustomize-ref-pinned", "Remote kustomize directories are pinned to a release tag or a commit.", "high",
         kustomize_ref_pinned, "?ref=<tag> on the directory URL", resource_types=KUSTOMIZE_TYPES,
         reference="https://github.com/kubernetes-sigs/kustomize/blob/master/examples/remoteBuild.md"),
)
