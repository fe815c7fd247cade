"""Pipelines' database: the in-cluster MySQL's volume protected and kept, or Amazon RDS by
config, private, encrypted and deletion-protected, wired into KFP's own objects as Pulumi
creates them."""

from __future__ import annotations

import pulumi
import pytest

from components.ml.pipelines import (
    DATABASE_CLAIM,
    DATABASE_SECRET,
    INSTALL_CONFIG,
    IN_CLUSTER_DATABASE,
    MYSQL_PORT,
    DatabaseWiring,
    ManagedDatabase,
)
from kubeforge.cli import main
from tests.conftest import stack_file, variant

MANAGED = ManagedDatabase(host="kfp.abc.us-west-2.rds.amazonaws.com", port=MYSQL_PORT, username="kfp",
                          password="s3cret")


def _object(kind: str, name: str, **body) -> pulumi.ResourceTransformArgs:
    """One object of the distribution's manifests as the provider hands it to the transform."""
    group = {"Deployment": "apps/v1"}.get(kind, "core/v1")
    return pulumi.ResourceTransformArgs(custom=True, type_=f"kubernetes:{group}:{kind}", name=f"kubeflow/{name}",
                                        props={"metadata": {"name": name, "namespace": "kubeflow"}, **body},
                                        opts=pulumi.ResourceOptions())


def _claim() -> pulumi.ResourceTransformArgs:
    return _object("PersistentVolumeClaim", DATABASE_CLAIM, spec={
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}})


def test_the_in_cluster_databases_volume_is_protected_kept_and_sized_from_config():
    result = DatabaseWiring(storage="50Gi")(_claim())
    assert result.opts.protect is True and result.opts.retain_on_delete is True
    assert result.props["spec"]["resources"]["requests"]["storage"] == "50Gi"


@pytest.mark.parametrize(("kind", "name"), [("Deployment", IN_CLUSTER_DATABASE), ("ConfigMap", INSTALL_CONFIG),
                                            ("Secret", DATABASE_SECRET), ("PersistentVolumeClaim", "other")])
def test_in_cluster_the_distributions_other_objects_are_left_as_published(kind, name):
    assert DatabaseWiring(storage="20Gi")(_object(kind, name, data={"mysqlHost": "mysql"})) is None


def test_a_managed_database_is_what_kfps_api_server_cache_and_metadata_service_reach():
    config = _object("ConfigMap", INSTALL_CONFIG, data={"mysqlHost": "mysql", "mysqlPort": "3306", "dbHost": "mysql",
                                                        "dbPort": "3306", "pipelineDb": "mlpipeline"})
    data = DatabaseWiring(storage="20Gi", managed=MANAGED)(config).props["data"]
    assert data == {"mysqlHost": MANAGED.host, "mysqlPort": "3306", "dbHost": MANAGED.host, "dbPort": "3306",
                    "pipelineDb": "mlpipeline"}


def test_a_managed_databases_credentials_replace_the_distributions_empty_root_password():
    secret = _object("Secret", DATABASE_SECRET, stringData={"username": "root", "password": ""})
    props = DatabaseWiring(storage="20Gi", managed=MANAGED)(secret).props
    assert props["stringData"] == {"username": "kfp", "password": "s3cret"}
    assert "data" not in props


def test_with_a_managed_database_the_in_cluster_mysql_runs_nothing_and_is_not_awaited():
    wiring = DatabaseWiring(storage="20Gi", managed=MANAGED)
    deployment = wiring(_object("Deployment", IN_CLUSTER_DATABASE, spec={"replicas": 1}))
    assert deployment.props["spec"]["replicas"] == 0
    claim = wiring(_claim())
    assert claim.props["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    assert not claim.opts.protect


def test_the_graph_names_the_transform_on_the_pipelines_manifests(local_graph):
    manifests = local_graph.named("pipelines-manifests")
    assert manifests.options["transforms"] == ["components.ml.pipelines.DatabaseWiring"]
    assert not local_graph.of_type("aws:rds/instance:Instance")


@pytest.fixture(scope="module")
def managed_graph(tmp_path_factory):
    from tests.conftest import Project, TENANT
    project = Project(tmp_path_factory.mktemp("managed-db"))

    def managed(platform):
        platform.setdefault("components", {})["pipelines"] = {"database": {"kind": "managed", "storage": "100Gi"}}
    return variant(project, TENANT, "aws-prod", managed).preview()


def test_the_managed_database_is_private_encrypted_multi_az_and_deletion_protected(managed_graph):
    (instance,) = managed_graph.of_type("aws:rds/instance:Instance")
    inputs = instance.inputs
    assert inputs["engine"] == "mysql" and inputs["engineVersion"] == "8.4"
    assert inputs["publiclyAccessible"] is False and inputs["multiAz"] is True
    assert inputs["storageEncrypted"] is True and inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert inputs["deletionProtection"] is True and inputs["skipFinalSnapshot"] is False
    assert inputs["backupRetentionPeriod"] == 7
    assert inputs["allocatedStorage"] == 100 and inputs["maxAllocatedStorage"] == 1000
    assert instance.options["protect"] and instance.options["retainOnDelete"]


def test_only_the_clusters_nodes_reach_the_managed_database(managed_graph):
    firewall = managed_graph.named("pipelines-db-firewall")
    (rule,) = firewall.inputs["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["protocol"]) == (3306, 3306, "tcp")
    assert rule["securityGroups"] and "cidrBlocks" not in rule
    assert firewall.inputs["egress"] == []
    (subnets,) = managed_graph.of_type("aws:rds/subnetGroup:SubnetGroup")
    assert len(subnets.inputs["subnetIds"]) >= 2


def test_the_managed_databases_users_authenticate_as_mlmd_needs(managed_graph):
    (group,) = managed_graph.of_type("aws:rds/parameterGroup:ParameterGroup")
    assert group.inputs["family"] == "mysql8.4"
    assert {p["name"]: p["value"] for p in group.inputs["parameters"]} == {
        "authentication_policy": "*:mysql_native_password"}


def test_kfp_is_installed_once_the_managed_database_exists(managed_graph):
    (instance,) = managed_graph.of_type("aws:rds/instance:Instance")
    assert instance.urn in managed_graph.named("pipelines-manifests").dependencies


@pytest.mark.parametrize(("stack", "database", "path", "accepted"), [
    ("gcp-prod", {"kind": "managed"}, "components.pipelines.database.kind", "needs target aws"),
    ("aws-prod", {"kind": "managed", "storage": "10Gi"}, "components.pipelines.database.storage", "20Gi to 65536Gi"),
    ("aws-prod", {"kind": "managed", "instanceClass": "db.m7g.large;reboot"},
     "components.pipelines.database.instanceClass", "pattern"),
])
def test_a_database_the_target_cannot_have_is_refused_with_one_message(capsys, project, tenant_spec,
                                                                         stack, database, path, accepted):
    def change(platform):
        platform.setdefault("components", {})["pipelines"] = {"database": database}
    variant(project, tenant_spec, stack, change)
    assert main(["-C", str(project.path), "validate", "--stack", "test"]) == 2
    err = capsys.readouterr().err
    assert path in err and accepted in err
    assert "Traceback" not in err


def test_the_shipped_stacks_keep_the_in_cluster_database():
    for stack in ("local", "aws-prod", "gcp-prod"):
        assert "database" not in stack_file(stack).get("components", {}).get("pipelines", {})
