"""Stands in for Google Cloud Storage."""
