"""The Pulumi program: load this stack's config, hand the resolved stack to the platform.

``pulumi up`` and kubeforge's offline engine (``kubeforge preview``) both run this file.
"""

from pathlib import Path

import pulumi

from components.platform import Platform, PlatformArgs
from kubeforge.config.credentials import IDENTITY_SECRET_KEY, OBJECT_STORE_CREDENTIALS_KEY
from kubeforge.config.loader import load_platform
from kubeforge.errors import ConfigError

config = pulumi.Config("kubeforge")
try:
    stack = load_platform(
        config.get_object("platform"),
        stack=pulumi.get_stack(),
        root=Path(__file__).parent,
        kubeconfig_configured=config.get("kubeconfig") is not None,
        # Checked for its shape only; the clear text goes no further.
        object_store_credentials=pulumi.runtime.get_config(OBJECT_STORE_CREDENTIALS_KEY),
        identity_secret=pulumi.runtime.get_config(IDENTITY_SECRET_KEY),
    )
except ConfigError as exc:
    # RunError: Pulumi prints the message alone, without a Python traceback.
    raise pulumi.RunError(str(exc)) from None

for warning in stack.warnings:
    pulumi.log.warn(warning)

platform = Platform("kubeforge", PlatformArgs(
    stack=stack,
    kubeconfig=config.get_secret("kubeconfig"),
    object_store_credentials=config.get_secret_object("objectStoreCredentials"),
    identity_secret=config.get_secret("identitySecret"),
))
if platform.kubeconfig is not None:
    pulumi.export("kubeconfig", platform.kubeconfig)
pulumi.export("tenantNamespaces", platform.tenant_namespaces)
for name, value in platform.outputs.items():
    pulumi.export(name, value)
