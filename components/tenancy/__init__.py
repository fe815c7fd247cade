"""Tenancy: one namespace per tenant with its quota and access."""
