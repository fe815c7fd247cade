"""The secret config value ``kubeforge:objectStoreCredentials``: tenants' object-store keys on-prem.

On-prem, S3-compatible stores have no cloud identity to federate with (IRSA, Workload
Identity), so each tenant gets an access key pair, kept in the stack's encrypted config::

    pulumi config set --secret --path 'kubeforge:objectStoreCredentials.<tenant>.accessKeyId' <id>
    pulumi config set --secret --path 'kubeforge:objectStoreCredentials.<tenant>.secretAccessKey' <key>

One entry per tenant with ``storage.bucket``. With ``store: external`` they are the keys the
store's administrators issued for the tenant's bucket; with ``store: seaweedfs`` kubeforge
configures the in-cluster store to accept them for that bucket only.

Only the shape is checked here (which tenants, which keys, which characters), at load, in
clear text the program never keeps: messages never quote a value. Components receive the
value as a secret Output (``PlatformArgs``), so it reaches the graph only as ``[secret]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from kubeforge.config.spec import PlatformSpec, TenantSpec
from kubeforge.errors import Problem

OBJECT_STORE_CREDENTIALS_KEY = "kubeforge:objectStoreCredentials"
CREDENTIAL_FIELDS = ("accessKeyId", "secretAccessKey")
# Access key ids as S3-compatible stores issue them; secret keys are printable ASCII without
# spaces (they travel in environment variables and HTTP signatures).
_PATTERNS = {
    "accessKeyId": re.compile(r"[A-Za-z0-9._~+/=-]{3,128}", re.ASCII),
    "secretAccessKey": re.compile(r"[\x21-\x7e]{8,256}", re.ASCII),
}
_HOW = (f"set each value with `pulumi config set --secret --path '{OBJECT_STORE_CREDENTIALS_KEY}.<tenant>."
        "secretAccessKey' ...` (and accessKeyId)")


def _encrypted(value: Any) -> bool:
    """A ``secure:`` value as a stack file holds it (read offline, never decrypted)."""
    return isinstance(value, Mapping) and set(value) == {"secure"} and isinstance(value["secure"], str)


def bucket_tenants(spec: PlatformSpec, tenants: Mapping[str, TenantSpec]) -> list[str]:
    """Tenants that get an on-prem bucket and so need credentials."""
    if spec.target != "onprem" or not spec.storage.object.enabled:
        return []
    return [name for name, tenant in tenants.items() if tenant.storage.bucket]


def credentials_problems(raw: Any, spec: PlatformSpec, tenants: Mapping[str, TenantSpec], source: str,
                         *, from_stack_file: bool = False) -> list[Problem]:
    """Problems with the credentials value: ``raw`` is None when unset, the config's JSON text
    (the program) or the stack file's YAML value (``from_stack_file``, where a secret key in
    clear text is refused)."""
    key = OBJECT_STORE_CREDENTIALS_KEY
    needed = bucket_tenants(spec, tenants)
    seaweedfs = spec.storage.object.store == "seaweedfs"
    if raw is None:
        # Unset with an external store: its administrators hand tenants their keys themselves.
        if needed and seaweedfs:
            return [Problem(source, key, f"store seaweedfs needs each bucket tenant's access keys; {_HOW}",
                            has_value=False)]
        return []
    if spec.target != "onprem" or not spec.storage.object.enabled:
        return [Problem(source, key, "only used on-prem with object storage on; cloud tenants reach their bucket "
                        "through their Kubernetes ServiceAccount (IRSA, Workload Identity)", has_value=False)]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, Mapping) or _encrypted(raw):
        return [Problem(source, key, "must be a mapping of tenant to {accessKeyId, secretAccessKey}, each value "
                        f"encrypted on its own so the tenants can be checked offline; {_HOW}", has_value=False)]
    problems = []
    for tenant in raw:
        if tenant not in needed:
            problems.append(Problem(source, f"{key}.{str(tenant)[:63]}", "not a tenant of this stack with "
                                    f"storage.bucket; accepted: {', '.join(needed) or 'none'}", has_value=False))
    for tenant in needed:
        path = f"{key}.{tenant}"
        entry = raw.get(tenant)
        if entry is None:
            problems.append(Problem(source, path, f"missing: the tenant has storage.bucket; {_HOW}",
                                    has_value=False))
            continue
        if not isinstance(entry, Mapping) or _encrypted(entry):
            problems.append(Problem(source, path, "must be {accessKeyId, secretAccessKey}", has_value=False))
            continue
        for field in entry:
            if field not in CREDENTIAL_FIELDS:
                problems.append(Problem(source, f"{path}.{str(field)[:40]}", "unknown key; accepted: "
                                        f"{', '.join(CREDENTIAL_FIELDS)}", has_value=False))
        for field in CREDENTIAL_FIELDS:
            value = entry.get(field)
            if value is None:
                problems.append(Problem(source, f"{path}.{field}", "required key is missing", has_value=False))
            elif _encrypted(value):
                continue
            elif not isinstance(value, str) or not _PATTERNS[field].fullmatch(value):
                problems.append(Problem(source, f"{path}.{field}", "must be " + (
                    "3 to 128 letters, digits or ._~+/=-" if field == "accessKeyId"
                    else "8 to 256 printable ASCII characters without spaces"), has_value=False))
            elif from_stack_file and field == "secretAccessKey":
                problems.append(Problem(source, f"{path}.{field}", f"is in clear text in the stack file; {_HOW}",
                                        has_value=False))
    return problems


# --- the identity provider's secret ----------------------------------------------------------

IDENTITY_SECRET_KEY = "kubeforge:identitySecret"
"""The OIDC client secret or the LDAP bind password Dex uses with the organisation's directory."""
_IDENTITY_HOW = f"set it with `pulumi config set --secret {IDENTITY_SECRET_KEY} ...`"
# Printable ASCII: it reaches Dex only as an environment variable from a Secret.
_IDENTITY_PATTERN = re.compile(r"[\x20-\x7e]{1,1024}", re.ASCII)


def identity_secret_needed(spec: PlatformSpec) -> bool:
    return spec.access is not None and not spec.access.identity.demo_user


def identity_secret_problems(raw: Any, spec: PlatformSpec, source: str, *, from_stack_file: bool = False) -> list[Problem]:
    """Problems with ``kubeforge:identitySecret``: required with an oidc or ldap connector,
    encrypted in the stack file, refused otherwise. Messages never quote the value."""
    key = IDENTITY_SECRET_KEY
    needed = identity_secret_needed(spec)
    if raw is None:
        if needed:
            connector = "oidc" if spec.access.identity.oidc is not None else "ldap"  # type: ignore[union-attr]
            what = "client secret" if connector == "oidc" else "bind password"
            return [Problem(source, key, f"access.identity.{connector} needs its {what}; {_IDENTITY_HOW}",
                            has_value=False)]
        return []
    if not needed:
        return [Problem(source, key, "only used with access.identity.oidc or access.identity.ldap; remove it",
                        has_value=False)]
    if _encrypted(raw):
        return []
    if from_stack_file:
        return [Problem(source, key, f"is in clear text in the stack file; {_IDENTITY_HOW}", has_value=False)]
    if not isinstance(raw, str) or not _IDENTITY_PATTERN.fullmatch(raw):
        return [Problem(source, key, "must be 1 to 1024 printable ASCII characters", has_value=False)]
    return []
