"""Stands in for Vertex AI serving: generateContent, token counting, endpoints, batch prediction."""
