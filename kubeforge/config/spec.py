"""The spec: what a user writes, as typed models (the first stage of loading).

A stack's ``kubeforge:platform`` config value validates into :class:`PlatformSpec`;
each ``stacks/tenants/<name>.yaml`` validates into :class:`TenantSpec`. The keys are
camelCase in YAML (as in every Kubernetes and Pulumi document) and snake_case in Python.
Unknown keys are errors, so a typo never passes silently. Everything here documents
itself: ``kubeforge docs config`` generates docs/CONFIG.md from these declarations.

Every value that can reach a manifest or a script is bounded here: patterns are matched
whole and ASCII-only, strings have a maximum length and numbers a range Kubernetes (or the
cloud) accepts. Checks across fields live in :mod:`kubeforge.config.checks`; the model
components read is :mod:`kubeforge.config.resolved`.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_snake
from pydantic_core import PydanticCustomError

from kubeforge import catalog
from kubeforge.gpu.facts import facts

# Python patterns are compiled ASCII-only and always used with fullmatch, so neither a
# trailing newline ("$" matches before one) nor a non-ASCII digit ("\d" is Unicode) passes.
# Pydantic's Field(pattern=...) uses Rust's regex engine, where "$" is end of text; those
# patterns spell digits [0-9] for the same reason.
# Ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", re.ASCII)
# Ref: https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
QUANTITY = re.compile(r"([0-9]{1,15}(\.[0-9]{1,6})?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?", re.ASCII)
_QUANTITY_FACTORS = {
    None: 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
# An e-mail as identity providers assert it; RFC 5321 caps a path at 254 characters.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+", re.ASCII)
DRIVER_VERSION = re.compile(r"[0-9]{3}\.[0-9]{1,3}(\.[0-9]{1,3})?", re.ASCII)
K8S_MINOR = re.compile(r"1\.[0-9]{2}", re.ASCII)
# Label keys: an optional DNS-subdomain prefix and a name of at most 63 characters; values
# at most 63 characters, alphanumeric at both ends.
# Ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", re.ASCII)
LABEL_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", re.ASCII)
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", re.ASCII)
# Label prefixes kubeforge and NVIDIA's operators write: a pool's own labels may not set
# them, so no config can relabel a node's pinned driver or MIG layout.
RESERVED_LABEL_PREFIXES = ("kubeforge.io/", "nvidia.com/", "app.kubernetes.io/", "kubernetes.io/",
                           "k8s.io/", "cloud.google.com/", "eks.amazonaws.com/")
# Longest key kept for a "did you mean" hint: difflib is quadratic in the key's length.
_HINT_MAX_KEY = 64

GPU_MODELS: tuple[str, ...] = tuple(gpu.id for gpu in facts().gpus)
"""The one GPU model table: gpu-drivers/data/mig_profiles.yaml."""


class Spec(BaseModel):
    """Base of every config model: camelCase keys, unknown keys rejected with a hint."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=False,
        use_attribute_docstrings=True,
        str_strip_whitespace=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        accepted = [f.alias or name for name, f in cls.model_fields.items()]
        for key in data:
            if key not in accepted:
                text = str(key)
                hint = difflib.get_close_matches(text, accepted, n=1) if len(text) <= _HINT_MAX_KEY else []
                did_you_mean = f"; did you mean '{hint[0]}'?" if hint else ""
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key '{key}'; accepted keys: {accepted}{hint}",
                    {"key": text[:40], "accepted": ", ".join(accepted), "hint": did_you_mean},
                )
        return data


def _dns_label(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.fullmatch(value):
        raise PydanticCustomError(
            "dns_label",
            "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
        )
    return value


def _quantity(value: Any) -> str:
    if isinstance(value, bool):
        raise PydanticCustomError("quantity", "must be a Kubernetes quantity such as 1600Gi, 2Ti or 500m")
    text = str(value)
    if len(text) > 24 or not QUANTITY.fullmatch(text):
        raise PydanticCustomError(
            "quantity",
            "must be a non-negative Kubernetes quantity such as 1600Gi, 2Ti or 500m",
        )
    return text


def _email(value: str) -> str:
    if len(value) > 254 or not EMAIL.fullmatch(value):
        raise PydanticCustomError("email", "must be an e-mail address (the identity the auth provider asserts)")
    return value


def _driver(value: str) -> str:
    if not DRIVER_VERSION.fullmatch(value):
        raise PydanticCustomError(
            "driver_version", "must be an exact NVIDIA driver version such as 580.95.05 (branch.minor.patch)"
        )
    return value


def _label_key(key: str) -> str:
    prefix, slash, name = key.rpartition("/")
    if len(key) > 317 or not LABEL_NAME.fullmatch(name) or (slash and (len(prefix) > 253 or not LABEL_PREFIX.fullmatch(prefix))):
        raise PydanticCustomError(
            "label_key",
            "label key {key} must be an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit",
            {"key": repr(key[:40])},
        )
    return key


def _label_value(value: str) -> str:
    if not LABEL_VALUE.fullmatch(value):
        raise PydanticCustomError(
            "label_value",
            "label values are at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        )
    return value


def _user_labels(labels: dict[str, str]) -> dict[str, str]:
    for key in labels:
        if key.startswith(RESERVED_LABEL_PREFIXES):
            raise PydanticCustomError(
                "reserved_label",
                "label {key} uses a prefix kubeforge or the cluster sets itself ({prefixes}); choose another prefix",
                {"key": repr(key[:40]), "prefixes": ", ".join(RESERVED_LABEL_PREFIXES)},
            )
    return labels


def quantity_value(text: str) -> Decimal:
    """A Kubernetes quantity as a number (bytes for memory, cores for CPU)."""
    match = QUANTITY.fullmatch(text)
    if not match:
        raise ValueError(f"not a quantity: {text[:40]!r}")
    try:
        return Decimal(match.group(1)) * Decimal(_QUANTITY_FACTORS[match.group(3)])
    except InvalidOperation as exc:  # pragma: no cover - the pattern guarantees digits
        raise ValueError(f"not a quantity: {text[:40]!r}") from exc


DnsLabel = Annotated[str, Field(max_length=63), AfterValidator(_dns_label)]
# Node names are DNS-1123 subdomains. Ref: https://kubernetes.io/docs/concepts/architecture/nodes/
DnsSubdomain = Annotated[
    str, Field(max_length=253, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
]
Quantity = Annotated[str | int | float, AfterValidator(_quantity)]
Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
DriverVersion = Annotated[str, Field(max_length=16), AfterValidator(_driver)]
Cidr = Annotated[str, Field(max_length=18, pattern=r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$")]
LabelKey = Annotated[str, Field(max_length=317), AfterValidator(_label_key)]
LabelValue = Annotated[str, Field(max_length=63), AfterValidator(_label_value)]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=64)]
UserLabels = Annotated[Labels, AfterValidator(_user_labels)]
GpuModel = Literal[GPU_MODELS]  # type: ignore[valid-type]


# --- target settings ---------------------------------------------------------------


class AwsSettings(Spec):
    region: str = Field(max_length=32, pattern=r"^[a-z]{2}(-gov)?-[a-z]{1,16}-[0-9]$")
    """AWS region, e.g. us-west-2."""
    availability_zones: int = Field(default=3, ge=2, le=6)
    """How many AZs the VPC spans (private + public subnet in each); EKS needs at least 2."""
    vpc_cidr: Cidr = "10.40.0.0/16"
    """VPC address range; split into one /19 private and one /22 public subnet per AZ."""
    public_endpoint: bool = False
    """Expose the EKS API endpoint publicly. Off: the API is reachable only from the VPC."""
    public_access_cidrs: list[Cidr] = Field(default=[], max_length=40)
    """CIDRs allowed to reach a public endpoint; required (and never 0.0.0.0/0) when it is on."""
    admin_role_arns: list[
        Annotated[str, Field(max_length=2048, pattern=r"^arn:aws[a-z-]{0,8}:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")]
    ] = Field(default=[], max_length=32)
    """IAM role ARNs granted cluster-admin through EKS access entries."""

class GcpSettings(Spec):
    project: str = Field(max_length=30, pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
    """GCP project id."""
    region: str = Field(max_length=32, pattern=r"^[a-z]{1,16}-[a-z]{1,16}[0-9]{1,2}$")
    """GCP region, e.g. us-central1."""
    zones: list[Annotated[str, Field(max_length=36, pattern=r"^[a-z]{1,16}-[a-z]{1,16}[0-9]{1,2}-[a-z]$")]] = Field(
        min_length=1, max_length=8
    )
    """Zones of the region for node pools; GPU pools use the first (A100 capacity is zonal,
    and compact placement keeps a pool in one zone). Check A100 availability per zone:
    https://cloud.google.com/compute/docs/gpus/gpu-regions-zones"""
    master_cidr: Cidr = "172.16.0.0/28"
    """/28 range for the private control plane endpoint."""
    subnet_cidr: Cidr = "10.50.0.0/20"
    """Primary range of the node subnet."""
    pods_cidr: Cidr = "10.60.0.0/14"
    """Secondary range for pod IPs (VPC-native)."""
    services_cidr: Cidr = "10.64.0.0/20"
    """Secondary range for Service IPs (VPC-native)."""
    master_authorized_cidrs: list[Cidr] = Field(default=[], max_length=50)
    """CIDRs allowed to reach the control plane endpoint (never 0.0.0.0/0)."""

    @field_validator("master_authorized_cidrs")
    @classmethod
    def _no_open(cls, v: list[str]) -> list[str]:
        if "0.0.0.0/0" in v:
            raise PydanticCustomError("endpoint_open", "must not contain 0.0.0.0/0; list your own networks")
        return v


class OnPremSettings(Spec):
    driver_install: Literal["host", "operator"] = "host"
    """Who installs the pinned NVIDIA driver on the GPU nodes: the host install scripts in
    gpu-drivers/install (then validated with gpu-drivers/validate), or the GPU Operator."""
    kubeconfig_context: str | None = Field(default=None, max_length=253, pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.@:/]*$")
    """Context to use from the kubeconfig. The kubeconfig itself comes from the secret
    config value ``kubeforge:kubeconfig`` or, when that is unset, from $KUBECONFIG or
    ~/.kube/config on the machine that runs ``pulumi up``."""


# --- node pools --------------------------------------------------------------------


class MigSpec(Spec):
    strategy: Literal["single", "mixed"] = "mixed"
    """GPU Operator MIG strategy: single (one profile on every GPU) or mixed."""
    layout: str = Field(max_length=200, pattern=r"^[0-9a-z.,*+ ]+$")
    """MIG layout applied to every GPU of the pool, e.g. "3g.40gb,2g.20gb,1g.10gb" or "1g.10gb*7"."""


class GpuSpec(Spec):
    model: GpuModel
    """GPU model; picks the machine type with ``perNode``."""
    per_node: int = Field(ge=1, le=16)
    """GPUs per node. AWS: 8. GCP: 1, 2, 4, 8 (and 16 for a100-40gb). On-prem: 1, 2, 4, 8."""
    mig: MigSpec | None = None
    """Partition every GPU with MIG; omit to use whole GPUs."""


class NodePoolSpec(Spec):
    gpu: GpuSpec | None = None
    """Make this a GPU pool. Without it the pool is a CPU pool for platform services."""
    min: int = Field(default=0, ge=0, le=1000)
    """Minimum nodes (GPU pools: keep 0 so an idle pool costs nothing)."""
    max: int = Field(default=1, ge=1, le=1000)
    """Maximum nodes; GPU capacity for quota checks is ``max * gpu.perNode``."""
    driver: DriverVersion | None = None
    """Pinned NVIDIA driver (required for GPU pools), e.g. 580.95.05."""
    allow_eol_driver: bool = False
    """Accept a driver branch past NVIDIA's end of life (not recommended)."""
    machine_type: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][-a-z0-9.]*$")
    """CPU pools: instance/machine type. GPU pools take theirs from the machine-type table."""
    disk_gb: int = Field(default=200, ge=50, le=16000)
    """Root volume size."""
    labels: UserLabels = {}
    """Extra node labels. Prefixes kubeforge and the cluster set themselves (kubeforge.io/,
    nvidia.com/, kubernetes.io/, ...) are refused: kubeforge's labels always win."""
    nodes: list[DnsSubdomain] = Field(default=[], max_length=1000)
    """On-prem: names of the existing nodes that form this pool; kubeforge labels and taints them."""
    node_selector: Labels = {}
    """On-prem: a label selector for the existing nodes of this pool, instead of ``nodes``;
    a DaemonSet labels and taints every matching node, including nodes that join later.
    ``max`` is then the pool's node count for capacity checks."""


# --- storage, scheduler, components ---------------------------------------------------


# Bucket names S3 or GCS reserve. Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html ;
# https://cloud.google.com/storage/docs/buckets#naming
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-", "goog")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")
RESERVED_BUCKET_WORDS = ("google", "g00gle")


def _bucket_safe(text: str) -> str:
    """Lowercase letters, digits and single hyphens, as S3 and GCS bucket names allow."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


class NfsServer(Spec):
    server: str = Field(max_length=253, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$")
    """Host name or address of the NFS server."""
    path: str = Field(max_length=1024, pattern=r"^(/[A-Za-z0-9._-]+)+/?$")
    """Exported path, e.g. /export/kubeforge."""


class FileStorageSpec(Spec):
    enabled: bool = True
    """Shared ReadWriteMany file storage (NAS) for notebooks, datasets and checkpoints: the
    StorageClass kubeforge-nas, and a volume of each tenant's storage.nas size."""
    nfs: NfsServer | None = None
    """On-prem: the existing NFS export that backs the NAS storage class."""
    throughput: Literal["bursting", "elastic"] = "elastic"
    """AWS EFS throughput mode: elastic scales with the workload and bills what it uses;
    bursting earns throughput with the data stored.
    Ref: https://docs.aws.amazon.com/efs/latest/ug/performance.html#throughput-modes"""
    filestore_tier: Literal["basic-hdd", "basic-ssd", "zonal", "regional", "enterprise-multishare"] = "regional"
    """GCP Filestore tier of the tenants' NAS volumes; every tenant's storage.nas must fit
    the tier's sizes (a Filestore instance per volume, or a share for enterprise-multishare):
    basic-hdd 100Gi-63.9Ti, basic-ssd 2.5Ti-63.9Ti, zonal 1Ti-9984Gi or 10Ti-100Ti,
    regional 100Gi-9984Gi or 10Ti-100Ti (replicated across zones), enterprise-multishare
    100Gi-1Ti (shares packed on enterprise instances).
    Ref: https://cloud.google.com/filestore/docs/service-tiers ;
    https://cloud.google.com/kubernetes-engine/docs/concepts/multishares"""


class SeaweedFsSpec(Spec):
    """The in-cluster object store (on-prem, ``store: seaweedfs``)."""

    masters: Literal[1, 3] = 3
    """Master servers (Raft); 3 survive the loss of one. Each runs on its own node."""
    volume_servers: int = Field(default=3, ge=1, le=64)
    """Volume servers, each on its own node with its own volume; with 2 or more, every
    object is stored on two of them (replication 001)."""
    volume_size: Quantity = "1Ti"
    """Size of each volume server's PersistentVolume."""
    storage_class: DnsSubdomain | None = None
    """StorageClass of the store's PersistentVolumes (block storage, e.g. local disks or a
    SAN); default: the cluster's default class."""


class ObjectStorageSpec(Spec):
    enabled: bool = True
    """Object storage for pipeline artifacts and models: a bucket per tenant with
    storage.bucket (S3, GCS, or S3-compatible on-prem)."""
    store: Literal["external", "seaweedfs"] = "external"
    """On-prem: ``external`` uses the existing S3-compatible service at ``endpoint``;
    ``seaweedfs`` runs SeaweedFS in the cluster. Tenants' access keys come from the secret
    config value ``kubeforge:objectStoreCredentials`` (docs/STORAGE.md)."""
    endpoint: str | None = Field(
        default=None, max_length=512, pattern=r"^https?://[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9._~-]*)*$"
    )
    """On-prem, store external: URL of the existing S3-compatible service."""
    seaweedfs: SeaweedFsSpec = SeaweedFsSpec()
    """On-prem, store seaweedfs: size and placement of the in-cluster store."""
    bucket_prefix: str | None = Field(default=None, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
    """Bucket names are ``<bucketPrefix>-<tenant>``; default ``kubeforge-<stack>``. S3 and
    GCS bucket names are global: choose a prefix unique to your organisation."""
    noncurrent_version_days: int = Field(default=30, ge=1, le=3650)
    """Days a replaced or deleted object's old version is kept before it expires (S3, GCS:
    buckets are versioned)."""
    cmek: bool = True
    """GCP: encrypt buckets with kubeforge's customer-managed Cloud KMS key (rotated every 90
    days); false: Google-managed keys. S3 buckets always use a customer-managed KMS key."""
    retain_on_delete: bool = True
    """Keep buckets when Pulumi deletes them from the stack (data outlives the platform);
    buckets are protected either way (docs/STORAGE.md)."""

    @field_validator("bucket_prefix")
    @classmethod
    def _bucket_prefix(cls, v: str | None) -> str | None:
        if v is not None and (v.startswith(RESERVED_BUCKET_PREFIXES) or any(w in v for w in RESERVED_BUCKET_WORDS)):
            raise PydanticCustomError(
                "bucket_prefix", "must not start with {prefixes} nor contain {words} (reserved by S3 and GCS)",
                {"prefixes": ", ".join(RESERVED_BUCKET_PREFIXES), "words": ", ".join(RESERVED_BUCKET_WORDS)},
            )
        return v

    def bucket_name(self, stack: str, tenant: str) -> str:
        """The tenant's bucket: ``<prefix>-<tenant>``, or, when that is too long or reserved,
        the prefix, as much of the tenant as fits and a hash (3 to 63 characters either way)."""
        prefix = self.bucket_prefix or _bucket_safe(f"kubeforge-{stack}")[:40].strip("-")
        if any(w in prefix for w in RESERVED_BUCKET_WORDS):
            prefix = "kubeforge"
        name = f"{prefix}-{tenant}"
        if len(name) <= 63 and not name.endswith(RESERVED_BUCKET_SUFFIXES) and not any(
            w in name for w in RESERVED_BUCKET_WORDS
        ):
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        head = f"{prefix}-{tenant}"[:54].rstrip("-")
        if any(w in head for w in RESERVED_BUCKET_WORDS):
            head = prefix
        return f"{head}-{digest}"


class StorageSpec(Spec):
    file: FileStorageSpec = FileStorageSpec()
    """Shared ReadWriteMany file storage: EFS (aws), Filestore (gcp) or an NFS export (onprem)."""
    object: ObjectStorageSpec = ObjectStorageSpec()
    """Object storage: S3 (aws), GCS (gcp) or an S3-compatible service (onprem)."""


class QueueDefaults(Spec):
    reclaimable: bool = True
    """Whether capacity a queue borrowed beyond its share may be reclaimed from it when another
    queue needs its own back. Reclaim is an action of the scheduler only with
    ``scheduler.preemption`` on; without it, borrowed capacity returns as jobs finish."""


# --- components: one shape for all (deployKF's) ---------------------------------------------

ComponentVersion = Annotated[str, Field(max_length=32, pattern=r"^v?[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$")]
# Keys that choose what runs: images and chart or app versions come from the catalog only.
PINNED_VALUE_KEYS = frozenset({"image", "images", "repository", "registry", "tag", "digest", "version"})


def _no_pinned_keys(values: dict[str, Any]) -> dict[str, Any]:
    stack: list[tuple[str, Any]] = [("", values)]
    while stack:  # iterative: the parser already bounds depth and size
        prefix, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(key, str) and key in PINNED_VALUE_KEYS:
                raise PydanticCustomError(
                    "pinned_value",
                    "{path} is pinned by the catalog (images and versions: set the component's 'version' to "
                    "another version the catalog lists); remove it from valuesOverrides",
                    {"path": path[:120]},
                )
            stack.append((path, value))
    return values


class ComponentSpec(Spec):
    """The settings every upstream component takes (deployKF's component shape)."""

    pinned_values: ClassVar[tuple[str, ...]] = ()
    """Value paths kubeforge sets from config or facts; valuesOverrides may not change them."""

    enabled: bool = True
    """Install this component."""
    version: ComponentVersion | None = None
    """Install another version than the release pins; only a version the catalog lists for
    this component is accepted (``kubeforge docs versions``)."""
    values_overrides: Annotated[dict[str, Any], AfterValidator(_no_pinned_keys)] = {}
    """Helm values deep-merged over kubeforge's own (Helm-based components only): the escape
    hatch for settings kubeforge does not model. Images, versions and the values kubeforge
    derives from config (e.g. the GPU Operator's driver) cannot be overridden here."""


class GpuOperatorSpec(ComponentSpec):
    """The NVIDIA GPU Operator: its driver, toolkit and MIG settings follow the GPU pools."""

    # Derived from the pools' pins and the driver install path (components/gpu/operator.py).
    pinned_values: ClassVar[tuple[str, ...]] = (
        "driver", "toolkit", "mig.strategy", "migManager.config", "hostPaths", "cdi", "dcgmExporter.config",
    )


class SchedulerSpec(ComponentSpec):
    """The Volcano batch scheduler (catalog key ``volcano``) and its queues."""

    # The scheduler's configuration is generated from the keys below (components/scheduling).
    pinned_values: ClassVar[tuple[str, ...]] = (
        "custom.scheduler_config_override", "custom.scheduler_name", "custom.enabled_admissions",
    )

    policy: Literal["binpack", "spread"] = "binpack"
    """Node ordering: binpack fills GPU nodes before opening new ones; spread balances."""
    gang: bool = True
    """Gang scheduling: a job's pods start together or not at all."""
    preemption: bool = True
    """Higher-priority jobs may preempt lower-priority ones within a queue, and queues may
    reclaim their share from queues that borrowed it (Volcano's preempt and reclaim actions)."""
    queues: QueueDefaults = QueueDefaults()
    """Defaults for every tenant's queue."""
    queue_plugin: Literal["capacity", "proportion"] = "capacity"
    """How queues share the cluster: capacity (a queue's ``deserved`` share, here its
    guaranteed GPUs, is what reclaim returns it to) or proportion (shares by weight).
    Volcano runs one of the two, never both.
    Ref: https://volcano.sh/en/docs/capacity_plugin/ ; https://volcano.sh/en/docs/proportion_plugin/"""
    gpu_cap_overcommit: float = Field(default=2.0, ge=1.0, le=10.0)
    """How far tenants' GPU caps (quota.gpu) may add up beyond the cluster's GPU capacity:
    1.0 means no over-commit; guarantees never over-commit."""


class IstioSpec(ComponentSpec):
    """Istio; ``valuesOverrides`` apply to the istiod chart."""

    # The ext_authz provider and CNI mode are derived (components/access/istio.py).
    pinned_values: ClassVar[tuple[str, ...]] = ("cni", "meshConfig.extensionProviders")

    cni: bool = True
    """Run the Istio CNI node agent (a privileged DaemonSet) so no workload pod needs the
    privileged istio-init container, as the Kubeflow distribution installs Istio; false only
    where the cluster forbids CNI plugins.
    Ref: https://istio.io/latest/docs/setup/additional-setup/cni/"""


class KServeSpec(ComponentSpec):
    """KServe and its models web app."""

    deployment_mode: Literal["Standard", "Serverless"] = "Standard"
    """Standard (raw deployment): an InferenceService becomes a Deployment and a Service.
    Serverless: a Knative Service that scales to zero; needs ``components.knative.enabled: true``.
    Ref: https://kserve.github.io/website/docs/admin-guide/overview"""


class PipelinesDatabase(Spec):
    """Where Kubeflow Pipelines keeps runs, experiments, its cache and ML metadata (MySQL 8.4)."""

    kind: Literal["inCluster", "managed"] = "inCluster"
    """inCluster: the distribution's MySQL 8.4 in ``kubeflow``, its volume protected and kept
    if removed from the stack. managed: Amazon RDS for MySQL 8.4 (aws only), Multi-AZ,
    encrypted with the platform's data key, in the cluster's private subnets, reachable from
    the nodes only, deletion-protected, with daily backups; the in-cluster MySQL is scaled to zero."""
    storage: Quantity = "20Gi"
    """Disk for the database: the in-cluster volume, or the managed instance's initial storage
    (RDS grows it up to ten times on its own)."""
    instance_class: Annotated[str, Field(max_length=32, pattern=r"^db\.[a-z0-9]{2,12}\.[a-z0-9]{4,12}$")] = "db.m7g.large"
    """managed only: the RDS DB instance class.
    Ref: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html"""
    backup_days: int = Field(default=7, ge=1, le=35)
    """managed only: days RDS keeps automated backups (point-in-time recovery)."""


class PipelinesSpec(ComponentSpec):
    """Kubeflow Pipelines (multi-user) and its database."""

    database: PipelinesDatabase = PipelinesDatabase()
    """The database KFP's API server, cache and metadata service use."""


# Catalog components configured outside ``components:`` (section name -> catalog key).
TOP_LEVEL_COMPONENTS: dict[str, str] = {"scheduler": "volcano"}
# Catalog components with typed keys of their own; every other one takes ComponentSpec.
COMPONENT_SPECS: dict[str, type[ComponentSpec]] = {
    "gpuOperator": GpuOperatorSpec, "istio": IstioSpec, "kserve": KServeSpec, "pipelines": PipelinesSpec,
}


def _components_spec() -> type[Spec]:
    """``components:``: one block per catalog component, generated from the catalog, so a
    component added to the catalog is configurable (and documented) with no edit here."""
    fields: dict[str, Any] = {}
    for key, (description, enabled) in catalog.component_defaults().items():
        if key in TOP_LEVEL_COMPONENTS.values():
            continue
        settings = COMPONENT_SPECS.get(key, ComponentSpec)
        default = settings if enabled else (lambda settings=settings: settings(enabled=False))
        fields[to_snake(key)] = (settings, Field(default_factory=default, alias=key, description=description))
    model = create_model("ComponentsSpec", __base__=Spec, __doc__="The platform's upstream components.", **fields)
    model.__module__ = __name__
    return model


ComponentsSpec = _components_spec()


# --- access: how people reach the platform ---------------------------------------------

# A fully qualified DNS name of at least two labels, lowercase, as certificates carry it.
# Ref: https://datatracker.ietf.org/doc/html/rfc1123#section-2.1
Hostname = Annotated[str, Field(
    max_length=253, pattern=r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]
HttpsUrl = Annotated[str, Field(
    max_length=512,
    pattern=r"^https://[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9._~%-]+)*/?$")]
# An LDAP distinguished name without the characters that need escaping (quotes, +, ;, <, >,
# backslash, #), newlines or anything outside printable ASCII.
# Ref: https://datatracker.ietf.org/doc/html/rfc4514#section-2.4
LdapDn = Annotated[str, Field(max_length=512, pattern=r"^[A-Za-z][A-Za-z0-9-]*=[A-Za-z0-9 ._@-]+(,[A-Za-z][A-Za-z0-9-]*=[A-Za-z0-9 ._@-]+)*$")]
LdapAttribute = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")]


def _exactly_one(model: BaseModel, fields: tuple[str, ...]) -> None:
    chosen = [f for f in fields if getattr(model, f) not in (None, False)]
    if len(chosen) != 1:
        names = ", ".join(to_camel(f) for f in fields)
        raise PydanticCustomError("exactly_one", "set exactly one of {names}", {"names": names})


class Route53Solver(Spec):
    """AWS Route 53: cert-manager proves control of ``access.hostname`` with a TXT record."""

    hosted_zone_id: str = Field(max_length=32, pattern=r"^Z[A-Z0-9]{1,31}$")
    """The public hosted zone that holds ``access.hostname``. kubeforge creates an IAM role
    for cert-manager (IRSA) that may change records in this zone only.
    Ref: https://cert-manager.io/docs/configuration/acme/dns01/route53/"""


class CloudDnsSolver(Spec):
    """Google Cloud DNS: cert-manager proves control of ``access.hostname`` with a TXT record."""

    project: str | None = Field(default=None, max_length=30, pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
    """The project of the managed zone that holds ``access.hostname``; default: the cluster's
    project. cert-manager's Google service account (Workload Identity) gets roles/dns.admin
    there. Ref: https://cert-manager.io/docs/configuration/acme/dns01/google/"""


class Dns01Solver(Spec):
    route53: Route53Solver | None = None
    """On target aws."""
    cloud_dns: CloudDnsSolver | None = None
    """On target gcp."""

    @model_validator(mode="after")
    def _one(self) -> "Dns01Solver":
        _exactly_one(self, ("route53", "cloud_dns"))
        return self


class AcmeIssuer(Spec):
    """A public certificate from an ACME CA, validated by DNS-01 (works behind a private
    load balancer, needs no inbound HTTP)."""

    email: Email
    """Where the CA sends expiry and account notices."""
    server: HttpsUrl = "https://acme-v02.api.letsencrypt.org/directory"
    """The ACME directory; Let's Encrypt's staging directory
    (https://acme-staging-v02.api.letsencrypt.org/directory) for trials."""
    dns01: Dns01Solver
    """How cert-manager proves control of the hostname."""


class OrganisationCa(Spec):
    """The organisation's own CA signs the platform's certificate (on-prem, private names)."""

    secret_name: DnsSubdomain
    """A Secret of type kubernetes.io/tls in cert-manager's namespace holding the CA's
    ``tls.crt`` and ``tls.key``, created by the platform team (kubeforge never reads or
    stores a CA key). Ref: https://cert-manager.io/docs/configuration/ca/"""


class TlsSpec(Spec):
    """Who signs the gateway's certificate: exactly one of acme, organisationCa."""

    acme: AcmeIssuer | None = None
    """A public ACME CA (Let's Encrypt by default) with a DNS-01 solver: cloud stacks."""
    organisation_ca: OrganisationCa | None = None
    """The organisation's CA."""

    @model_validator(mode="after")
    def _one(self) -> "TlsSpec":
        _exactly_one(self, ("acme", "organisation_ca"))
        return self


class OidcConnector(Spec):
    """The organisation's OpenID Connect provider (Entra ID, Okta, Google, Keycloak, ...)."""

    issuer: HttpsUrl
    """The provider's issuer URL (its discovery document is <issuer>/.well-known/openid-configuration)."""
    client_id: str = Field(max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/-]*$")
    """The client registered for the platform, with redirect URI https://<hostname>/dex/callback.
    Its secret is the secret config value ``kubeforge:identitySecret``."""
    display_name: str = Field(default="Single sign-on", max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._()-]*$")
    """The login button's label."""


class LdapConnector(Spec):
    """The organisation's LDAP directory (Active Directory, OpenLDAP), over TLS."""

    host: str = Field(max_length=260, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:[0-9]{1,5}$")
    """host:port of the directory; LDAPS (636) unless ``startTls``."""
    start_tls: bool = False
    """Connect in clear text and upgrade with StartTLS (port 389) instead of LDAPS."""
    bind_dn: LdapDn = Field(alias="bindDN")
    """The service account Dex searches with; its password is the secret config value
    ``kubeforge:identitySecret``."""
    user_base_dn: LdapDn = Field(alias="userBaseDN")
    """Where users are searched, e.g. ou=people,dc=example,dc=com."""
    user_filter: str = Field(default="(objectClass=person)", max_length=256,
                             pattern=r"^\([A-Za-z0-9=()&|!*._ -]{1,254}\)$")
    """LDAP filter a user entry must match."""
    username_attribute: LdapAttribute = "uid"
    """The attribute users log in with (sAMAccountName on Active Directory)."""
    email_attribute: LdapAttribute = "mail"
    """The attribute holding the e-mail address tenants name contributors by."""
    display_name: str = Field(default="Directory login", max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._()-]*$")
    """The login button's label."""


class IdentitySpec(Spec):
    """Where users' identities come from: exactly one of oidc, ldap, demoUser."""

    oidc: OidcConnector | None = None
    """Federate the organisation's OpenID Connect provider."""
    ldap: LdapConnector | None = None
    """Federate the organisation's LDAP directory."""
    demo_user: bool = False
    """Only on the stack named ``local``: one static user, user@example.com, whose password
    kubeforge generates (stack output ``demoUserPassword``, secret). Never a fixed password."""

    @model_validator(mode="after")
    def _one(self) -> "IdentitySpec":
        _exactly_one(self, ("oidc", "ldap", "demo_user"))
        return self


class AccessSpec(Spec):
    """How people reach the platform: one HTTPS name, a certificate, a login."""

    hostname: Hostname
    """The platform's DNS name; users open https://<hostname>/. Point it at the ingress
    gateway's load balancer (kubeforge does not manage the record)."""
    tls: TlsSpec
    """The gateway's certificate."""
    identity: IdentitySpec
    """Login: the upstream identity provider Dex federates."""
    gateway_service: Literal["LoadBalancer", "NodePort"] = "LoadBalancer"
    """How the ingress gateway is exposed: a cloud or MetalLB load balancer, or node ports
    behind the organisation's own load balancer."""
    internal: bool = True
    """Cloud targets: the load balancer gets a private address only (reached over VPN or
    peering); false makes it internet-facing."""


# --- the platform --------------------------------------------------------------------


class PlatformSpec(Spec):
    """The ``kubeforge:platform`` stack config value."""

    release: str = Field(max_length=16, pattern=r"^[0-9]{4}\.[0-9]{2}$")
    """Catalog release pinning every upstream component, e.g. "2026.11"."""
    target: Literal["aws", "gcp", "onprem"]
    """Where the cluster runs: a new EKS or GKE cluster, or an existing cluster (onprem)."""
    kubernetes_version: str
    """Kubernetes minor version, e.g. "1.34"; must be one the release supports on the target."""
    aws: AwsSettings | None = None
    """Settings for target aws (required there, rejected elsewhere)."""
    gcp: GcpSettings | None = None
    """Settings for target gcp (required there, rejected elsewhere)."""
    onprem: OnPremSettings | None = None
    """Settings for target onprem (optional there, rejected elsewhere)."""
    node_pools: dict[DnsLabel, NodePoolSpec]
    """Node pools by name; at least one CPU pool for platform services."""
    storage: StorageSpec = StorageSpec()
    """Shared file storage (NAS) and object storage."""
    access: AccessSpec | None = None
    """The platform's front door (hostname, certificate, login): required with istio."""
    scheduler: SchedulerSpec = SchedulerSpec()
    """The Volcano batch scheduler and its queues."""
    components: ComponentsSpec = ComponentsSpec()  # type: ignore[valid-type]
    """The platform's upstream components; each is on by default at the release's version."""
    tenants: list[DnsLabel] = Field(default=[], max_length=5000)
    """Tenants on this stack; each is read from stacks/tenants/<name>.yaml."""

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _k8s_syntax(cls, v: Any) -> Any:
        if not isinstance(v, str) or not K8S_MINOR.fullmatch(v):
            raise PydanticCustomError(
                "k8s_version", 'must be a Kubernetes minor version as a string, such as "1.34"'
            )
        return v

    @field_validator("tenants")
    @classmethod
    def _unique_tenants(cls, v: list[str]) -> list[str]:
        seen: set[str] = set()
        for name in v:
            if name in seen:
                raise PydanticCustomError("duplicate_tenant", "tenant '{name}' is listed twice", {"name": name})
            seen.add(name)
        return v

# --- tenants ---------------------------------------------------------------------------


class Contributor(Spec):
    user: Email
    """The contributor's identity (e-mail) as the auth provider asserts it."""
    role: Literal["edit", "view"] = "edit"
    """edit: create and change workloads in the namespace; view: read only."""


class TenantQuota(Spec):
    """Caps on what the tenant's namespace may hold (its ResourceQuota) and run (its queue's
    capability)."""

    cpu: Quantity
    """CPU cores the tenant's pods may request in total."""
    memory: Quantity
    """Memory the tenant's pods may request in total, e.g. 1600Gi."""
    gpu: int = Field(ge=0, le=100_000)
    """Whole GPUs (nvidia.com/gpu) the tenant may request in total."""
    storage: Quantity = "1Ti"
    """Persistent volume storage the tenant may claim in total."""
    pods: int = Field(default=500, ge=1, le=1_000_000)
    """Pods the tenant may run at once."""
    persistent_volume_claims: int = Field(default=100, ge=0, le=100_000)
    """PersistentVolumeClaims the tenant may hold."""
    services: int = Field(default=50, ge=0, le=100_000)
    """Services the tenant may create."""
    load_balancers: int = Field(default=0, ge=0, le=100)
    """Services of type LoadBalancer: 0 by default, so a tenant cannot open the cluster to
    the internet on its own; the platform's gateway is the way in."""
    node_ports: int = Field(default=0, ge=0, le=100)
    """Services of type NodePort: 0 by default, for the same reason."""
    config_maps: int = Field(default=500, ge=0, le=100_000)
    """ConfigMaps the tenant may create."""
    secrets: int = Field(default=500, ge=0, le=100_000)
    """Secrets the tenant may create."""
    storage_classes: Annotated[dict[DnsLabel, Quantity], Field(max_length=16)] = {}
    """Storage the tenant may claim per StorageClass, e.g. {gp3: 500Gi}. The platform's NAS
    class (kubeforge-nas) is always listed, by default at ``storage``; classes not listed are
    bounded by ``storage`` alone."""

    @field_validator("cpu", "memory", "storage", mode="before")
    @classmethod
    def _not_negative(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and v < 0:
            raise PydanticCustomError("negative", "must not be negative")
        return v


class TenantQueue(Spec):
    weight: int = Field(default=1, ge=1, le=100)
    """Share of idle cluster capacity relative to other queues."""
    guaranteed_gpus: int = Field(default=0, ge=0, le=100_000)
    """GPUs reserved for this tenant's queue (Volcano 'guarantee'; also its 'deserved' share
    with the capacity plugin)."""
    priority: Literal["low", "normal", "high"] = "normal"
    """Scheduling priority of the tenant's jobs relative to other tenants'."""
    reclaimable: bool | None = None
    """Whether other queues may reclaim what this queue borrowed; default:
    scheduler.queues.reclaimable."""


class TenantStorage(Spec):
    nas: Quantity | None = "500Gi"
    """Size of the tenant's shared NAS volume (ReadWriteMany); null for none."""
    bucket: bool = True
    """Give the tenant its own object-storage bucket (or prefix on-prem)."""


class TenantSpec(Spec):
    """One tenant, from stacks/tenants/<name>.yaml (the file name is the tenant's name)."""

    owner: Email
    """The tenant's owner: namespace admin."""
    contributors: list[Contributor] = Field(default=[], max_length=1000)
    """People who work in the tenant's namespace, each with a role."""
    quota: TenantQuota
    """Resource quota of the tenant's namespace."""
    queue: TenantQueue = TenantQueue()
    """The tenant's Volcano queue."""
    storage: TenantStorage = TenantStorage()
    """The tenant's NAS volume and bucket."""
    pod_security: Literal["baseline", "restricted"] = "baseline"
    """Pod Security Standard enforced in the namespace; restricted is stricter (no root, no
    added capabilities). Privileged is never offered to a tenant.
    Ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/"""
