"""Stands in for the Vertex AI Gen AI evaluation service."""
