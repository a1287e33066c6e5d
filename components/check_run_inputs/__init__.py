"""``check_run_inputs``: every pipeline parameter and data input, checked before anything runs."""
