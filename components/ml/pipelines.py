"""Kubeflow Pipelines, multi-user, from the distribution's manifests; each tenant's runs keep
their artifacts in the tenant's own bucket with the tenant's own identity.

The distribution stores every namespace's artifacts in one in-cluster SeaweedFS bucket
(``mlpipeline``), under a prefix per namespace with a SeaweedFS user per namespace (its
profile controller: applications/pipeline/upstream/base/installs/multi-user/
pipelines-profile-controller/sync.py at 26.03). kubeforge points KFP v2's
launcher of each tenant at the tenant's bucket instead (``kfp-launcher``, written with the
tenant's storage: components/storage/tenant.py), reached through IRSA or Workload Identity on
the runs' ServiceAccount, or on-prem the tenant's keys: a tenant's credentials reach its
bucket only, as the storage tests evaluate on the generated IAM policies. On-prem without
tenant keys (``kubeforge:objectStoreCredentials``), runs keep the distribution's SeaweedFS
prefix per namespace.

The database: by default the distribution's in-cluster MySQL 8.4 (Deployment ``mysql``, claim
``mysql-pv-claim``), whose claim kubeforge protects and keeps when removed from the stack; or,
by config, Amazon RDS for MySQL 8.4. Both are set on the manifests' own objects as Pulumi
creates them (a resource transform on the kustomize directory: Pulumi runs it for every
object the Kubernetes provider creates from the directory, so the API server starts against
the right database and nothing is patched afterwards).
Ref: https://www.pulumi.com/docs/iac/concepts/options/transforms/

What a managed database takes, read at 26.03 / KFP 2.16.0 (applications/pipeline/upstream/
base/installs/generic/): the ConfigMap ``pipeline-install-config`` keys ``mysqlHost`` /
``mysqlPort`` (API server) and ``dbHost`` / ``dbPort`` (cache server, MLMD), the Secret
``mysql-secret`` (``username``, ``password``), a user allowed to CREATE DATABASE (the API
server creates ``mlpipeline``, ``cachedb`` and ``metadb``), and ``mysql_native_password``, which
MLMD needs (third-party/mysql/base/mysql-deployment.yaml runs MySQL 8.4 with
``--mysql-native-password=ON``). The distribution has no variant without its MySQL, so with a
managed database that Deployment is scaled to zero and its claim, never bound, is not awaited.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.component import AwsClusterRefs, ClusterAccess, PlatformComponent
from components.helm import manifest_set
from components.storage.common import KEEP_DATA
from kubeforge.config.resolved import PipelinesDatabase, ResolvedComponent, ResolvedStack, quantity_value

INSTALL_CONFIG = "pipeline-install-config"
DATABASE_SECRET = "mysql-secret"
IN_CLUSTER_DATABASE = "mysql"
DATABASE_CLAIM = "mysql-pv-claim"
MYSQL_PORT = 3306
# The RDS master user: KFP's API server creates its databases, so it needs CREATE DATABASE.
DATABASE_USER = "kfp"
GIB = 1024 ** 3


@dataclass(frozen=True)
class ManagedDatabase:
    """Where KFP finds a managed database."""

    host: pulumi.Input[str]
    port: int
    username: str
    password: pulumi.Input[str]


@dataclass(frozen=True)
class DatabaseWiring:
    """What the transform writes into the distribution's objects as Pulumi creates them."""

    storage: str
    """The in-cluster claim's size (a Kubernetes quantity)."""
    managed: ManagedDatabase | None = None
    """The managed database; None for the in-cluster MySQL."""

    def __call__(self, args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        kind = args.type_.rsplit(":", 1)[-1]
        name = (args.props.get("metadata") or {}).get("name")
        props = copy.deepcopy(args.props)
        opts = args.opts
        if kind == "PersistentVolumeClaim" and name == DATABASE_CLAIM:
            props["spec"]["resources"]["requests"]["storage"] = self.storage
            if self.managed is None:
                opts = pulumi.ResourceOptions.merge(opts, KEEP_DATA)
            else:
                # Nothing mounts it: on a WaitForFirstConsumer class it stays Pending.
                annotations = props["metadata"].setdefault("annotations", {})
                annotations["pulumi.com/skipAwait"] = "true"
        elif self.managed is None:
            return None
        elif kind == "Deployment" and name == IN_CLUSTER_DATABASE:
            props["spec"]["replicas"] = 0
        elif kind == "ConfigMap" and name == INSTALL_CONFIG:
            port = str(self.managed.port)
            props["data"].update(mysqlHost=self.managed.host, mysqlPort=port, dbHost=self.managed.host, dbPort=port)
        elif kind == "Secret" and name == DATABASE_SECRET:
            props.pop("data", None)
            # The password is RandomPassword.result, a secret output: it stays encrypted in state.
            props["stringData"] = {"username": self.managed.username, "password": self.managed.password}
        else:
            return None
        return pulumi.ResourceTransformResult(props=props, opts=opts)


def rds_storage_gib(storage: str) -> int:
    return math.ceil(quantity_value(str(storage)) / GIB)


@dataclass(frozen=True)
class PipelinesArgs:
    component: ResolvedComponent
    """The pinned KFP manifests (the distribution's multi-user overlay)."""
    database: PipelinesDatabase
    """components.pipelines.database: in-cluster or managed, size, instance class, backups."""
    aws: AwsClusterRefs | None
    """EKS only: the cluster's network, nodes and data key, for a managed database."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class Pipelines(PlatformComponent):
    """The KFP API server, UI, persistence agent, scheduled workflows, Argo, MLMD, KFP's
    profile controller, and its database (in-cluster MySQL or Amazon RDS)."""

    key = "pipelines"
    type_token = "kubeforge:ml:Pipelines"
    section = "components.pipelines"
    # The cache webhook's certificate (cert-manager), VirtualServices and AuthorizationPolicies (Istio).
    depends_on = ("namespaces", "istio", "certManager")
    args_type = PipelinesArgs
    concern = "ml"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, PipelinesArgs]:
        component = stack.components.get(cls.key)
        if component is None:
            return {}
        return {cls.default_name(): PipelinesArgs(component=component, database=component.settings.database,
                                                  aws=cluster.aws, provider=cluster.provider)}

    def __init__(self, name: str, args: PipelinesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        managed = None
        waits: list[pulumi.Resource] = []
        if args.database.kind == "managed":
            if args.aws is None:
                raise ValueError("a managed Pipelines database needs the EKS cluster's references")
            managed, instance = self._rds(name, args.database, args.aws)
            waits.append(instance)
        wiring = DatabaseWiring(storage=str(args.database.storage), managed=managed)
        self.manifests = manifest_set(f"{name}-manifests", args.component, provider=args.provider,
                                      opts=pulumi.ResourceOptions(parent=self, depends_on=waits, transforms=[wiring]))
        self.register_outputs({"version": args.component.version, "database": args.database.kind})

    def _rds(self, name: str, database: PipelinesDatabase, refs: AwsClusterRefs):
        """RDS for MySQL 8.4, private, encrypted, Multi-AZ, deletion-protected, backed up daily."""
        import pulumi_aws as aws  # only on aws: the provider SDK is slow to import

        child = pulumi.ResourceOptions(parent=self, provider=refs.provider)
        tags = {**refs.tags, "Name": refs.cluster_name.apply(lambda cluster: f"{cluster}-pipelines-db")}
        subnets = aws.rds.SubnetGroup(f"{name}-db-subnets", subnet_ids=list(refs.private_subnet_ids),
                                      description="Kubeflow Pipelines' database: the cluster's private subnets",
                                      tags=tags, opts=child)
        # Ref: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.Scenarios.html
        firewall = aws.ec2.SecurityGroup(
            f"{name}-db-firewall", description="MySQL from the cluster's nodes only", vpc_id=refs.vpc_id,
            ingress=[{"protocol": "tcp", "from_port": MYSQL_PORT, "to_port": MYSQL_PORT,
                      "security_groups": [refs.node_security_group_id], "description": "MySQL from EKS nodes"}],
            egress=[], tags=tags, opts=child)
        # MLMD authenticates with mysql_native_password: the master user is created with the
        # parameter group's authentication_policy.
        # Ref: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Upgrade-v3-v84-security.html ;
        # https://dev.mysql.com/doc/refman/8.4/en/native-pluggable-authentication.html
        parameters = aws.rds.ParameterGroup(
            f"{name}-db-parameters", family="mysql8.4",
            description="Kubeflow Pipelines: mysql_native_password for MLMD",
            parameters=[{"name": "authentication_policy", "value": "*:mysql_native_password",
                         "apply_method": "pending-reboot"}],
            tags=tags, opts=child)
        password = random.RandomPassword(f"{name}-db-password", length=40, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
        storage = rds_storage_gib(str(database.storage))
        instance = aws.rds.Instance(
            f"{name}-db",
            engine="mysql",
            # The major version; RDS applies minor versions in the maintenance window.
            # Ref: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.VersionMgmt.html
            engine_version="8.4",
            auto_minor_version_upgrade=True,
            instance_class=database.instance_class,
            allocated_storage=storage,
            max_allocated_storage=storage * 10,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=refs.data_key_arn,
            multi_az=True,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[firewall.id],
            publicly_accessible=False,
            parameter_group_name=parameters.name,
            username=DATABASE_USER,
            password=password.result,
            backup_retention_period=database.backup_days,
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=refs.cluster_name.apply(lambda cluster: f"{cluster}-pipelines-db-final"),
            enabled_cloudwatch_logs_exports=["error"],
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, KEEP_DATA),
        )
        managed = ManagedDatabase(host=instance.address, port=MYSQL_PORT, username=DATABASE_USER,
                                  password=password.result)
        return managed, instance
