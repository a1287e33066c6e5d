"""Stands in for Vertex AI tuning (tuningJobs): data checks, simulated training."""
