"""``select_checkpoint``: measure every checkpoint on the eval set; make the best the default."""
