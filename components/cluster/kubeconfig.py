"""A kubeconfig for a new cluster, authenticating through the cloud CLI (no static tokens)."""

from __future__ import annotations

import yaml


def kubeconfig_yaml(*, name: str, server: str, ca_data: str, exec_command: str, exec_args: list[str]) -> str:
    """kubeconfig whose user runs ``exec_command`` for short-lived credentials.

    Ref: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
    """
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{
            "name": name,
            "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": exec_command,
                "args": exec_args,
                "interactiveMode": "Never",
            }},
        }],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    return yaml.safe_dump(doc, sort_keys=False)
