"""The platform's front door: certificates, the mesh and its ingress gateway, and login."""
