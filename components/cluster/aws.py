"""EKS on AWS with pulumi-aws directly, so every resource is visible to the engine and policies.

Network: a VPC across ``availabilityZones`` AZs, one private and one public subnet per
AZ, a NAT gateway per AZ for egress; the cluster and all nodes sit in private subnets.
Cluster: pinned Kubernetes version, private endpoint (public only for listed CIDRs),
secrets envelope-encrypted with a customer KMS key, all control-plane logs, access
entries (API authentication mode, no implicit admin for the creator), deletion
protection, and an IAM OIDC provider for IRSA.
GPU pools: AL2023 NVIDIA AMI at a pinned release (the release pins the driver), IMDSv2,
encrypted root volume, GPU taint and labels, min 0, EFA and a cluster placement group.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.gpu_nodes import CLOUD_GPU_TAINT, POOL_LABEL, gpu_node_labels
from components.cluster.kubeconfig import kubeconfig_yaml
from components.component import AwsClusterRefs, ClusterAccess
from kubeforge.config.resolved import AwsCluster, AwsSettings, CpuPool, GpuPool, ResolvedStack

# Ref: https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# Ref: https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
]


@dataclass(frozen=True)
class EksClusterArgs:
    cluster: AwsCluster
    """Name, Kubernetes version, AWS settings and the pinned AL2023 NVIDIA AMI release."""
    system_pools: Mapping[str, CpuPool]
    """CPU pools for platform services, machine types resolved."""
    gpu_pools: Mapping[str, GpuPool]
    """GPU pools, machine types resolved from the machine-type table."""
    vpc_cni_version: str
    """The EKS vpc-cni add-on version (catalog eksAddons), run with network policy enforcement."""
    data_key: bool = False
    """Create the customer-managed KMS key for platform data (EFS, S3): storage is on."""

    @classmethod
    def from_stack(cls, stack: ResolvedStack, kubeconfig: pulumi.Output[str] | None) -> "EksClusterArgs":
        assert isinstance(stack.cluster, AwsCluster) and kubeconfig is None
        return cls(cluster=stack.cluster, system_pools=stack.cpu_pools, gpu_pools=stack.gpu_pools,
                   vpc_cni_version=stack.release.eks_addons["vpc-cni"].version,
                   data_key=stack.storage.file.enabled or stack.storage.object.enabled)


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster with system and A100 managed node groups."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kubeforge:cluster:EksCluster", name, None, opts)
        self._args = args
        # An explicit AWS provider: the region comes from kubeforge's config, never from
        # ambient AWS_REGION or aws:region.
        self._aws = aws.Provider(f"{name}-aws", region=args.cluster.settings.region, opts=pulumi.ResourceOptions(parent=self))
        child = self._opts()
        tags = {"kubeforge.io/cluster": args.cluster.name, "app.kubernetes.io/managed-by": "kubeforge"}
        self._tags = tags

        network = self._network(name, args.cluster.settings, tags)
        self.private_subnet_ids = [s.id for s in network["private"]]

        key = self._kms_key(f"{name}-secrets", f"alias/{args.cluster.name}-eks-secrets",
                            f"Envelope encryption of Kubernetes secrets in EKS cluster {args.cluster.name}", tags,
                            self._opts(protect=True))
        data_key = self._data_key(name, tags) if args.data_key else None

        cluster_role = self._role(f"{name}-control-plane", "eks.amazonaws.com",
                                  ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"])
        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=args.cluster.name,
            version=args.cluster.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=self._endpoint(args.cluster.settings),
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=CONTROL_PLANE_LOGS,
            # Ref: https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html
            access_config={
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": False,
            },
            deletion_protection=True,
            tags=tags,
            opts=self._opts(protect=True, depends_on=[cluster_role]),
        )
        # Tenants' NetworkPolicies are enforced only with the VPC CNI's network policy agent,
        # off by default: the managed add-on with enableNetworkPolicy takes over the
        # self-managed aws-node EKS installs. Ref: https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html
        aws.eks.Addon(
            f"{name}-vpc-cni",
            cluster_name=self.cluster.name,
            addon_name="vpc-cni",
            addon_version=args.vpc_cni_version,
            configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags,
            opts=child,
        )
        for i, arn in enumerate(args.cluster.settings.admin_role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{i}", cluster_name=self.cluster.name, principal_arn=arn, type="STANDARD", opts=child
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{i}",
                cluster_name=self.cluster.name,
                principal_arn=arn,
                policy_arn=CLUSTER_ADMIN_POLICY,
                access_scope={"type": "cluster"},
                opts=self._opts(depends_on=[entry]),
            )

        # IRSA: pods assume narrowly scoped IAM roles through the cluster's OIDC issuer.
        # Ref: https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html
        self.oidc_issuer = self.cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=self.oidc_issuer, client_id_lists=["sts.amazonaws.com"], tags=tags, opts=child
        )
        self.oidc_provider_arn = oidc.arn

        node_role = self._role(f"{name}-nodes", "ec2.amazonaws.com", NODE_POLICIES)
        node_sg = aws.ec2.SecurityGroup(
            f"{name}-efa",
            description="EFA traffic between GPU nodes (all traffic to and from itself)",
            vpc_id=network["vpc"].id,
            ingress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "self": True}],
            egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "self": True},
                    {"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": [args.cluster.settings.vpc_cidr]}],
            tags=tags,
            opts=child,
        )
        self.node_groups = {}
        for pool_name, pool in args.system_pools.items():
            self.node_groups[pool_name] = self._system_pool(name, pool_name, pool, node_role)
        for pool in args.gpu_pools.values():
            self.node_groups[pool.name] = self._gpu_pool(name, pool, node_role, node_sg, network)

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.endpoint, self.cluster.certificate_authority.data, self.cluster.name).apply(
                lambda a: kubeconfig_yaml(
                    name=a[2], server=a[0], ca_data=a[1],
                    exec_command="aws", exec_args=["eks", "get-token", "--cluster-name", a[2],
                                                   "--region", args.cluster.settings.region],
                )
            )
        )
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.node_groups.values())),
        )
        self.access = ClusterAccess(provider=self.provider, aws=AwsClusterRefs(
            provider=self._aws,
            region=args.cluster.settings.region,
            cluster_name=self.cluster.name,
            vpc_id=network["vpc"].id,
            private_subnet_ids=self.private_subnet_ids,
            # Managed nodes without security groups of their own in the launch template get the
            # cluster security group; the GPU pool's EFA interfaces list it explicitly.
            # Ref: https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html
            node_security_group_id=self.cluster.vpc_config.cluster_security_group_id,
            oidc_provider_arn=self.oidc_provider_arn,
            oidc_issuer=self.oidc_issuer,
            data_key_arn=data_key.arn if data_key is not None else None,
            nodes=list(self.node_groups.values()),
            tags=tags,
        ))
        self.register_outputs({
            "clusterName": self.cluster.name,
            "endpoint": self.cluster.endpoint,
            "oidcProviderArn": self.oidc_provider_arn,
            "kubeconfig": self.kubeconfig,
        })

    # --- pieces ----------------------------------------------------------------------------

    def _endpoint(self, settings: AwsSettings) -> dict:
        vpc_config = {
            "subnet_ids": self.private_subnet_ids,
            "endpoint_private_access": True,
            "endpoint_public_access": settings.public_endpoint,
        }
        if settings.public_endpoint:
            # Only ever the listed CIDRs: EKS opens a public endpoint to 0.0.0.0/0 when this
            # is empty (the config model refuses both that and 0.0.0.0/0).
            # Ref: https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html
            vpc_config["public_access_cidrs"] = settings.public_access_cidrs
        return vpc_config

    def _opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._aws, **kwargs)

    def _data_key(self, name: str, tags: dict[str, str]) -> aws.kms.Key:
        """The customer-managed key of platform data (EFS file system, tenants' buckets).
        Deleting it would make that data unreadable: protected, and kept if ever removed
        from the stack. Ref: https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html"""
        return self._kms_key(f"{name}-data", f"alias/{self._args.cluster.name}-data",
                             f"Platform data (EFS, S3) of EKS cluster {self._args.cluster.name}", tags,
                             self._opts(protect=True, retain_on_delete=True))

    def _kms_key(self, name: str, alias: str, description: str, tags: dict[str, str],
                 opts: pulumi.ResourceOptions) -> aws.kms.Key:
        """A customer-managed key, rotated yearly, with a 30-day deletion window, and its alias."""
        key = aws.kms.Key(name, description=description, enable_key_rotation=True, deletion_window_in_days=30,
                          tags=tags, opts=opts)
        aws.kms.Alias(name, name=alias, target_key_id=key.key_id, opts=self._opts())
        return key

    def _role(self, name: str, service: str, policies: list[str]) -> aws.iam.Role:
        role = aws.iam.Role(
            name,
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
            }),
            tags=self._tags,
            opts=self._opts(),
        )
        for policy in policies:
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy.rsplit('/', 1)[-1]}", role=role.name, policy_arn=policy,
                opts=self._opts(),
            )
        return role

    def _network(self, name: str, settings: AwsSettings, tags: dict[str, str]) -> dict:
        child = self._opts()
        vpc = aws.ec2.Vpc(
            f"{name}-vpc", cidr_block=settings.vpc_cidr, enable_dns_hostnames=True, enable_dns_support=True,
            tags={**tags, "Name": f"{self._args.cluster.name}"}, opts=child,
        )
        azs = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOptions(provider=self._aws))
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags=tags, opts=child,
        )
        block = ipaddress.ip_network(settings.vpc_cidr)
        private_cidrs = list(block.subnets(new_prefix=max(block.prefixlen + 3, 19)))
        public_cidrs = list(list(block.subnets(new_prefix=max(block.prefixlen + 2, 18)))[-1].subnets(new_prefix=24))
        private, public = [], []
        for i in range(settings.availability_zones):
            az = azs.names[i]
            pub = aws.ec2.Subnet(
                f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=str(public_cidrs[i]), availability_zone=az,
                map_public_ip_on_launch=False,
                # Ref: https://docs.aws.amazon.com/eks/latest/userguide/network-load-balancing.html
                tags={**tags, "kubernetes.io/role/elb": "1"}, opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=pub.id, route_table_id=public_rt.id,
                                          opts=child)
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags=tags, opts=child)
            nat = aws.ec2.NatGateway(f"{name}-nat-{i}", subnet_id=pub.id, allocation_id=eip.id, tags=tags,
                                     opts=self._opts(depends_on=[igw]))
            priv = aws.ec2.Subnet(
                f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=str(private_cidrs[i]), availability_zone=az,
                tags={**tags, "kubernetes.io/role/internal-elb": "1"}, opts=child,
            )
            rt = aws.ec2.RouteTable(
                f"{name}-private-{i}", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
                tags=tags, opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=priv.id, route_table_id=rt.id, opts=child)
            private.append(priv)
            public.append(pub)
        return {"vpc": vpc, "private": private, "public": public}

    def _launch_template(self, name: str, disk_gb: int, extra: dict | None = None) -> aws.ec2.LaunchTemplate:
        return aws.ec2.LaunchTemplate(
            name,
            # IMDSv2 only, and a hop limit of 1 so pods cannot reach the node's credentials.
            # Ref: https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required",
                              "http_put_response_hop_limit": 1},
            block_device_mappings=[{
                "device_name": "/dev/xvda",
                "ebs": {"volume_size": disk_gb, "volume_type": "gp3", "encrypted": "true",
                        "delete_on_termination": "true"},
            }],
            tag_specifications=[{"resource_type": "instance", "tags": self._tags}],
            update_default_version=True,
            tags=self._tags,
            opts=self._opts(),
            **(extra or {}),
        )

    def _system_pool(self, name: str, pool_name: str, pool: CpuPool, role: aws.iam.Role) -> aws.eks.NodeGroup:
        lt = self._launch_template(f"{name}-{pool_name}", pool.disk_gb)
        return aws.eks.NodeGroup(
            f"{name}-{pool_name}",
            cluster_name=self.cluster.name,
            node_group_name=pool_name,
            node_role_arn=role.arn,
            subnet_ids=self.private_subnet_ids,
            ami_type="AL2023_x86_64_STANDARD",
            instance_types=[pool.machine_type],
            scaling_config={"min_size": pool.min, "max_size": pool.max, "desired_size": max(pool.min, 1)},
            launch_template={"id": lt.id, "version": lt.latest_version.apply(str)},
            labels={POOL_LABEL: pool_name, **pool.labels},
            tags=self._tags,
            # The cluster autoscaler owns the desired size once the group exists.
            opts=self._opts(ignore_changes=["scalingConfig.desiredSize"]),
        )

    def _gpu_pool(self, name: str, pool: GpuPool, role: aws.iam.Role, efa_sg: aws.ec2.SecurityGroup,
                  network: dict) -> aws.eks.NodeGroup:
        machine = pool.machine
        extra: dict = {}
        # Multi-node training wants low latency between GPU nodes: EFA interfaces (one per
        # network card) and a cluster placement group, which confines the pool to one AZ.
        # Ref: https://docs.aws.amazon.com/eks/latest/userguide/node-efa.html
        subnet_ids = self.private_subnet_ids
        if machine.efa_interfaces:
            group = aws.ec2.PlacementGroup(
                f"{name}-{pool.name}", strategy="cluster", tags=self._tags, opts=self._opts()
            )
            extra["placement"] = {"group_name": group.name}
            extra["network_interfaces"] = [
                {
                    "network_card_index": card,
                    "device_index": 0 if card == 0 else 1,
                    "interface_type": "efa",
                    "subnet_id": network["private"][0].id,
                    "security_groups": [efa_sg.id, self.cluster.vpc_config.cluster_security_group_id],
                    "delete_on_termination": "true",
                }
                for card in range(machine.efa_interfaces)
            ]
            subnet_ids = [network["private"][0].id]
        lt = self._launch_template(f"{name}-{pool.name}", pool.disk_gb, extra)
        return aws.eks.NodeGroup(
            f"{name}-{pool.name}",
            cluster_name=self.cluster.name,
            node_group_name=pool.name,
            node_role_arn=role.arn,
            subnet_ids=subnet_ids,
            # The accelerated AL2023 AMI ships the NVIDIA driver; pinning its release pins
            # the driver. Ref: https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html
            ami_type="AL2023_x86_64_NVIDIA",
            release_version=self._args.cluster.ami.release_version,
            version=self._args.cluster.kubernetes_version,
            instance_types=[machine.machine_type],
            # min 0: an idle GPU pool costs nothing; the autoscaler adds nodes for pending pods.
            scaling_config={"min_size": pool.min, "max_size": pool.max, "desired_size": pool.min},
            launch_template={"id": lt.id, "version": lt.latest_version.apply(str)},
            labels=gpu_node_labels(pool),
            taints=[CLOUD_GPU_TAINT],
            tags={**self._tags,
                  # Lets the cluster autoscaler scale from zero onto a node with GPUs.
                  # Ref: https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md
                  "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": str(machine.gpus),
                  "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "present:NoSchedule"},
            opts=self._opts(ignore_changes=["scalingConfig.desiredSize"]),
        )
