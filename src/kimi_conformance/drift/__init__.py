"""Spec drift: how one OpenAPI document differs from another, classified by what the change does to clients."""
