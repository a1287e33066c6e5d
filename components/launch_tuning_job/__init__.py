"""Start a Gemini supervised tuning job, at most once per pipeline task."""
