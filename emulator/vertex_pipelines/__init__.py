"""Stands in for Vertex AI Pipelines (pipelineJobs, schedules) and its ML Metadata."""
