"""Identities: no wildcard actions or administrator policies on the platform's AWS roles;
IRSA / EKS Pod Identity / GKE Workload Identity trust scoped to one namespace's named
service accounts; no primitive GCP roles."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from kubeforge_policies.model import UNKNOWN, PolicyResource, UnknownValue, as_dict, as_list
from kubeforge_policies.rule import Issue, Rule

ROLE = "aws:iam/role:Role"
POLICY_DOCUMENT_TYPES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ATTACHMENT_TYPES = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment",
                    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive")
WORKLOAD_IDENTITY_TYPES = ("gcp:serviceaccount/iAMMember:IAMMember", "gcp:serviceaccount/iAMBinding:IAMBinding")
GCP_IAM_TYPES = ("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding",
                 "gcp:folder/iAMMember:IAMMember", "gcp:folder/iAMBinding:IAMBinding",
                 "gcp:organizations/iAMMember:IAMMember", "gcp:organizations/iAMBinding:IAMBinding")
SERVICE_ACCOUNT_SUBJECT = re.compile(r"^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$")
# Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity#authenticating_to
GKE_MEMBER = re.compile(r"^serviceAccount:[a-z0-9.-]+\.svc\.id\.goog\[([a-z0-9-]+)/([a-z0-9.-]+)\]$")
GKE_PRINCIPAL = re.compile(r"^principal://iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/"
                           r"[a-z0-9.-]+\.svc\.id\.goog/subject/ns/([a-z0-9-]+)/sa/([a-z0-9.-]+)$")


def _document(value: Any) -> Mapping[str, Any]:
    if value == UNKNOWN:
        raise UnknownValue(["policy"])
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return as_dict(value)


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement")
    return [as_dict(s) for s in (statements if isinstance(statements, list) else [statements]) if s]


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value is not None else [])


def _policy_documents(r: PolicyResource) -> list[tuple[str, Mapping[str, Any]]]:
    if r.type in POLICY_DOCUMENT_TYPES:
        return [("policy", _document(r.get(POLICY_DOCUMENT_TYPES[r.type])))]
    if r.type == ROLE:
        return [(f"inlinePolicies[{as_dict(p).get('name', i)}]", _document(as_dict(p).get("policy")))
                for i, p in enumerate(as_list(r.get("inlinePolicies")))]
    return []


def no_wildcard_actions(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    for where, document in _policy_documents(r):
        for i, statement in enumerate(_statements(document)):
            if statement.get("Effect") != "Allow":
                continue
            sid = statement.get("Sid") or f"statement {i}"
            if "NotAction" in statement:
                yield Issue(f"{where} {sid} allows NotAction, i.e. every action but a few",
                            f"list the actions {sid} needs in Action")
            wild = [a for a in _strings(statement.get("Action")) if "*" in a]
            if wild:
                yield Issue(f"{where} {sid} allows wildcard actions {', '.join(wild)}",
                            f"list the exact actions {sid} needs instead of {', '.join(wild)}")


def no_admin_policies(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    forbidden = set(params.get("forbiddenPolicyArns") or [])
    arns = _strings(r.get("policyArn")) + _strings(r.get("policyArns")) + _strings(r.get("managedPolicyArns"))
    for arn in arns:
        if arn in forbidden:
            yield Issue(f"attaches {arn}", f"replace {arn} with a policy granting only what the role needs")


def _web_identity_statements(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for i, statement in enumerate(_statements(document)):
        actions = _strings(statement.get("Action"))
        principal = as_dict(statement.get("Principal"))
        if statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid") or f"statement {i}"
        if "sts:AssumeRoleWithWebIdentity" in actions and any(
                "oidc-provider/" in f for f in _strings(principal.get("Federated"))):
            yield "irsa", {**statement, "__sid": sid}
        elif "pods.eks.amazonaws.com" in _strings(principal.get("Service")):
            yield "pod-identity", {**statement, "__sid": sid}


def _trusted_subjects(kind: str, statement: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(subjects as system:serviceaccount:<ns>:<sa>, problems) of one trust statement."""
    condition = as_dict(statement.get("Condition"))
    equals = as_dict(condition.get("StringEquals"))
    sid = statement["__sid"]
    problems: list[str] = []
    if kind == "irsa":
        for operator, clauses in condition.items():
            if operator != "StringEquals" and any(str(k).endswith(":sub") for k in as_dict(clauses)):
                problems.append(f"{sid} matches the token's sub with {operator}, not StringEquals")
        subs = [v for k, v in equals.items() if str(k).endswith(":sub")]
        auds = [v for k, v in equals.items() if str(k).endswith(":aud")]
        if not auds or any(_strings(a) != ["sts.amazonaws.com"] for a in auds):
            problems.append(f"{sid} does not require the token's aud to be sts.amazonaws.com")
        subjects = [s for v in subs for s in _strings(v)]
    else:
        namespaces = _strings(equals.get("aws:RequestTag/kubernetes-namespace"))
        accounts = _strings(equals.get("aws:RequestTag/kubernetes-service-account"))
        subjects = [f"system:serviceaccount:{n}:{a}" for n in namespaces for a in accounts]
    if not subjects:
        problems.append(f"{sid} trusts any service account of the cluster")
    return subjects, problems


def trust_scoped(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    for kind, statement in _web_identity_statements(_document(r.get("assumeRolePolicy"))):
        subjects, problems = _trusted_subjects(kind, statement)
        bad = [s for s in subjects if not SERVICE_ACCOUNT_SUBJECT.match(s)]
        if bad:
            problems.append(f"{statement['__sid']} trusts {', '.join(bad)}, not exact service accounts")
        namespaces = sorted({m.group(1) for s in subjects if (m := SERVICE_ACCOUNT_SUBJECT.match(s))})
        if len(namespaces) > 1:
            problems.append(f"{statement['__sid']} trusts service accounts of namespaces {', '.join(namespaces)}")
        fix = ("for IRSA: Condition StringEquals {\"<issuer>:sub\": \"system:serviceaccount:<namespace>:<sa>\", "
               "\"<issuer>:aud\": \"sts.amazonaws.com\"}"
               if kind == "irsa" else
               "for Pod Identity: Condition StringEquals {\"aws:RequestTag/kubernetes-namespace\": \"<namespace>\", "
               "\"aws:RequestTag/kubernetes-service-account\": \"<sa>\"}")
        for problem in problems:
            yield Issue(f"assumeRolePolicy {problem}", fix)


def trust_single_service_account(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    for kind, statement in _web_identity_statements(_document(r.get("assumeRolePolicy"))):
        subjects, _ = _trusted_subjects(kind, statement)
        if len(set(subjects)) > 1:
            yield Issue(f"assumeRolePolicy {statement['__sid']} trusts {len(set(subjects))} service accounts "
                        f"({', '.join(sorted(set(subjects)))})",
                        "give each workload its own role, or document why these service accounts share one")


def workload_identity_scoped(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if r.get("role") not in ("roles/iam.workloadIdentityUser", "roles/iam.serviceAccountTokenCreator"):
        return
    members = _strings(r.get("member")) + _strings(r.get("members"))
    namespaces = set()
    for member in members:
        match = GKE_MEMBER.match(member) or GKE_PRINCIPAL.match(member)
        if match is None:
            yield Issue(f"grants {r.get('role')} to {member}, not one Kubernetes service account",
                        'grant it to "serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]" only')
        else:
            namespaces.add(match.group(1))
    if len(namespaces) > 1:
        yield Issue(f"lets service accounts of namespaces {', '.join(sorted(namespaces))} impersonate one Google "
                    "service account", "give each namespace its own Google service account")


def no_primitive_roles(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    role = r.get("role")
    if role in set(params.get("forbiddenRoles") or []):
        yield Issue(f"grants the primitive role {role}", f"grant the predefined roles the member needs instead of {role}")


RULES = (
    Rule("aws-iam-no-wildcard-actions", "The platform's IAM policies allow no wildcard actions (or NotAction).",
         "critical", no_wildcard_actions, "list exact actions in every Allow statement",
         resource_types=(*POLICY_DOCUMENT_TYPES, ROLE),
         reference="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"),
    Rule("aws-iam-no-admin-policies", "No platform role gets an AWS administrator-level managed policy.",
         "critical", no_admin_policies, "attach least-privilege policies", resource_types=(*ATTACHMENT_TYPES, ROLE),
         params={"forbiddenPolicyArns": {
             "type": "array", "items": {"type": "string"}, "description": "Managed policies no role may have.",
             "default": ["arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/PowerUserAccess",
                         "arn:aws:iam::aws:policy/IAMFullAccess"]}}),
    Rule("aws-irsa-trust-scoped", "IRSA and EKS Pod Identity roles trust exact service accounts of one namespace "
         "(IRSA: sub with StringEquals, aud sts.amazonaws.com).", "critical", trust_scoped,
         "StringEquals on sub system:serviceaccount:<ns>:<sa> and aud sts.amazonaws.com", resource_types=(ROLE,),
         reference="https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html"),
    # Advisory: kubeforge's tenant storage roles deliberately trust two service accounts of
    # the tenant's namespace, <tenant>-storage and Kubeflow Pipelines' runner default-editor
    # (the reason is in components/storage/tenant.py's docstring); a team that gives runs a
    # role of their own can make this mandatory in its policy config.
    Rule("aws-irsa-trust-single-service-account", "An IRSA or Pod Identity role trusts one service account.",
         "medium", trust_single_service_account, "one role per workload identity", resource_types=(ROLE,),
         enforcement="advisory",
         reference="https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html"),
    Rule("gcp-workload-identity-scoped", "Workload Identity grants name single Kubernetes service accounts, all "
         "of one namespace per Google service account.", "high", workload_identity_scoped,
         "serviceAccount:<pool>[<namespace>/<ksa>] members only", resource_types=WORKLOAD_IDENTITY_TYPES,
         reference="https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity"),
    Rule("gcp-iam-no-primitive-roles", "No project, folder or organization grant of a primitive role.", "high",
         no_primitive_roles, "predefined roles only", resource_types=GCP_IAM_TYPES,
         params={"forbiddenRoles": {"type": "array", "items": {"type": "string"},
                                    "default": ["roles/owner", "roles/editor"],
                                    "description": "Roles no member may get."}},
         reference="https://cloud.google.com/iam/docs/understanding-roles#basic"),
)
