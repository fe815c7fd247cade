"""kubeforge's Pulumi components, grouped by concern.

Every component is a ``pulumi.ComponentResource`` with type token
``kubeforge:<module>:<Name>``, a typed args dataclass, children created with
``parent=self`` and ``register_outputs`` at the end. Components receive validated,
typed configuration (``kubeforge.config``) and never read raw stack config.
"""
