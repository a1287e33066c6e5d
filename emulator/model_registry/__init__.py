"""Stands in for the Vertex AI Model Registry (the models API)."""
