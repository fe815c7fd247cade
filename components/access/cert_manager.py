"""cert-manager from its Helm chart, and the ClusterIssuer that signs the gateway's certificate.

The issuer is ACME with a DNS-01 solver on the cloud's own DNS (cloud stacks; cert-manager
gets a cloud identity allowed to write the challenge record and nothing else) or the
organisation's CA (a Secret the platform team creates; kubeforge never handles the key).
Ref: https://cert-manager.io/docs/configuration/acme/dns01/ ; https://cert-manager.io/docs/configuration/ca/
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.component import AwsClusterRefs, ClusterAccess, GcpClusterRefs, PlatformComponent
from components.helm import helm_release
from components.labels import recommended_labels
from components.storage.common import bounded_name, irsa_trust_policy
from kubeforge.config.resolved import AccessSpec, ResolvedComponent, ResolvedStack

CLUSTER_ISSUER = "kubeforge"
"""The ClusterIssuer every certificate of the platform's front door names."""
SERVICE_ACCOUNT = "cert-manager"
"""The controller's ServiceAccount as the chart names it (release name cert-manager)."""
ACME_ACCOUNT_SECRET = "kubeforge-acme-account"


@dataclass(frozen=True)
class CertManagerArgs:
    component: ResolvedComponent
    """The pinned cert-manager chart."""
    access: AccessSpec | None
    """The front door's TLS settings; None: cert-manager only (webhook certificates)."""
    aws: AwsClusterRefs | None
    """EKS: the cluster's OIDC provider, for the Route 53 solver's IAM role."""
    gcp: GcpClusterRefs | None
    """GKE: the project and workload pool, for the Cloud DNS solver's service account."""
    cluster_name: str
    """Names the solver's cloud identity, so two stacks in one account or project never share one."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


def route53_policy(hosted_zone_id: str, hostname: str) -> dict[str, Any]:
    """Least privilege for DNS-01 on Route 53: TXT records of the challenge name, in one zone.

    Ref: https://cert-manager.io/docs/configuration/acme/dns01/route53/#set-up-an-iam-policy
    (the condition keys: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html)
    """
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "route53:GetChange", "Resource": "arn:aws:route53:::change/*"},
        {"Effect": "Allow", "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
         "Resource": f"arn:aws:route53:::hostedzone/{hosted_zone_id}",
         "Condition": {"ForAllValues:StringEquals": {
             "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
             "route53:ChangeResourceRecordSetsNormalizedRecordNames": [f"_acme-challenge.{hostname}"],
         }}},
        {"Effect": "Allow", "Action": "route53:ListHostedZonesByName", "Resource": "*"},
    ]}


def cluster_issuer_spec(access: AccessSpec, *, region: str | None = None, project: str | None = None) -> dict[str, Any]:
    """The ClusterIssuer's spec: ACME with the target's DNS-01 solver, or the organisation's CA."""
    tls = access.tls
    if tls.organisation_ca is not None:
        return {"ca": {"secretName": tls.organisation_ca.secret_name}}
    acme = tls.acme
    assert acme is not None  # the spec accepts exactly one of the two
    if acme.dns01.route53 is not None:
        # Credentials are ambient: the controller's IRSA role (no access keys in a Secret).
        solver = {"route53": {"region": region, "hostedZoneID": acme.dns01.route53.hosted_zone_id}}
    else:
        cloud_dns = acme.dns01.cloud_dns
        assert cloud_dns is not None
        # Credentials are ambient: Workload Identity (no key file in a Secret).
        solver = {"cloudDNS": {"project": cloud_dns.project or project}}
    return {"acme": {
        "email": acme.email,
        "server": acme.server,
        "privateKeySecretRef": {"name": ACME_ACCOUNT_SECRET},
        "solvers": [{"dns01": solver, "selector": {"dnsNames": [access.hostname]}}],
    }}


def cert_manager_values(*, irsa_role_arn: Any = None, gcp_service_account: Any = None) -> dict[str, Any]:
    """The chart's values: CRDs installed (and kept on uninstall, so certificates survive a
    reinstall), leader election in cert-manager's own namespace, the cloud identity."""
    values: dict[str, Any] = {
        # Ref: https://cert-manager.io/docs/installation/helm/#crd-considerations
        "crds": {"enabled": True, "keep": True},
        "global": {"leaderElection": {"namespace": "cert-manager"}},
    }
    annotations = {}
    if irsa_role_arn is not None:
        annotations["eks.amazonaws.com/role-arn"] = irsa_role_arn
    if gcp_service_account is not None:
        annotations["iam.gke.io/gcp-service-account"] = gcp_service_account
    if annotations:
        values["serviceAccount"] = {"annotations": annotations}
    return values


class CertManager(PlatformComponent):
    """cert-manager, with the platform's ClusterIssuer when the stack has a front door."""

    key = "certManager"
    type_token = "kubeforge:access:CertManager"
    section = "components.certManager"
    depends_on = ("namespaces",)
    args_type = CertManagerArgs
    concern = "access"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, CertManagerArgs]:
        component = stack.components.get(cls.key)
        if component is None:
            return {}
        return {cls.default_name(): CertManagerArgs(
            component=component, access=stack.access, aws=cluster.aws, gcp=cluster.gcp,
            cluster_name=getattr(stack.cluster, "name", f"kubeforge-{stack.stack}"), provider=cluster.provider,
        )}

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        acme = args.access.tls.acme if args.access is not None else None
        irsa_role_arn = gcp_service_account = None
        if acme is not None and acme.dns01.route53 is not None and args.aws is not None:
            irsa_role_arn = self._route53_role(name, args.access, args.aws, args.component.namespace)
        if acme is not None and acme.dns01.cloud_dns is not None and args.gcp is not None:
            gcp_service_account = self._cloud_dns_account(name, args.access, args.gcp, args.component.namespace,
                                                          bounded_name(f"{args.cluster_name}-dns01", 30))
        self.release = helm_release(
            f"{name}-release",
            args.component,
            release_name="cert-manager",
            values=cert_manager_values(irsa_role_arn=irsa_role_arn, gcp_service_account=gcp_service_account),
            provider=args.provider,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cluster_issuer = None
        if args.access is not None:
            region = args.aws.region if args.aws is not None else None
            project = args.gcp.project if args.gcp is not None else None
            self.cluster_issuer = k8s.apiextensions.CustomResource(
                f"{name}-cluster-issuer",
                api_version="cert-manager.io/v1",
                kind="ClusterIssuer",
                metadata={"name": CLUSTER_ISSUER, "labels": recommended_labels(
                    name="cert-manager", instance=name, component=self.concern)},
                # The CRD comes with the release, whose webhook must answer before this applies.
                spec=cluster_issuer_spec(args.access, region=region, project=project),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.release]),
            )
        self.register_outputs({"version": self.release.version, "clusterIssuer": CLUSTER_ISSUER
                               if self.cluster_issuer is not None else None})

    def ready(self) -> list[pulumi.Resource]:
        # Dependents need cert-manager's CRDs and webhook (the release). A Certificate may
        # name the ClusterIssuer before it exists: cert-manager issues it once it does.
        return [self.release]

    def _route53_role(self, name: str, access: AccessSpec, refs: AwsClusterRefs, namespace: str) -> pulumi.Output[str]:
        import pulumi_aws as aws

        solver = access.tls.acme.dns01.route53  # type: ignore[union-attr]
        opts = pulumi.ResourceOptions(parent=self, provider=refs.provider)
        role = aws.iam.Role(
            f"{name}-dns01",
            assume_role_policy=pulumi.Output.all(refs.oidc_provider_arn, refs.oidc_issuer).apply(
                lambda a: json.dumps(irsa_trust_policy(a[0], a[1], namespace, SERVICE_ACCOUNT))),
            tags=dict(refs.tags),
            opts=opts,
        )
        aws.iam.RolePolicy(
            f"{name}-dns01",
            role=role.id,
            policy=json.dumps(route53_policy(solver.hosted_zone_id, access.hostname)),
            opts=opts,
        )
        return role.arn

    def _cloud_dns_account(self, name: str, access: AccessSpec, refs: GcpClusterRefs, namespace: str,
                           account_id: str) -> pulumi.Output[str]:
        import pulumi_gcp as gcp

        solver = access.tls.acme.dns01.cloud_dns  # type: ignore[union-attr]
        opts = pulumi.ResourceOptions(parent=self, provider=refs.provider)
        account = gcp.serviceaccount.Account(
            f"{name}-dns01",
            account_id=account_id,
            project=refs.project,
            display_name="cert-manager DNS-01 solver (kubeforge)",
            opts=opts,
        )
        # Ref: https://cert-manager.io/docs/configuration/acme/dns01/google/ (roles/dns.admin)
        gcp.projects.IAMMember(
            f"{name}-dns01-admin",
            project=solver.project or refs.project,
            role="roles/dns.admin",
            member=account.email.apply(lambda e: f"serviceAccount:{e}"),
            opts=opts,
        )
        gcp.serviceaccount.IAMMember(
            f"{name}-dns01-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{refs.workload_pool}[{namespace}/{SERVICE_ACCOUNT}]",
            opts=opts,
        )
        return account.email
