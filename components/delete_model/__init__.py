"""``delete_model``: delete a model version or a whole model, safely."""
