"""Shared machinery of every emulated Google service: HTTP front end, state, faults, errors."""
