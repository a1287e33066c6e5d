"""``get_champion``: the version that currently holds an alias (default ``champion``)."""
