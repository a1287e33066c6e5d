"""Upload a dataset to Cloud Storage at a content address, once."""
