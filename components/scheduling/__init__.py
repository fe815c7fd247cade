"""Scheduling: the Volcano batch scheduler and the priority tiers tenants' jobs run at."""
