"""Tenancy: one namespace per tenant with its quota and access."""

from components.tenancy.tenant import TenantNamespace, TenantNamespaceArgs

__all__ = ["TenantNamespace", "TenantNamespaceArgs"]
