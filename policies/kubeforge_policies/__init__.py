"""kubeforge's policy rules: plain functions over a neutral resource view, run offline on the
recorded graph (:func:`evaluate`) and under the Pulumi engine (:mod:`kubeforge_policies.crossguard`)."""

from kubeforge_policies.model import PolicyResource, from_recorded
from kubeforge_policies.registry import BY_NAME, CONCERNS, RULES, PolicyConfigError, evaluate, mandatory
from kubeforge_policies.rule import Issue, Rule, Violation

__all__ = ["BY_NAME", "CONCERNS", "RULES", "Issue", "PolicyConfigError", "PolicyResource", "Rule", "Violation",
           "evaluate", "from_recorded", "mandatory"]
