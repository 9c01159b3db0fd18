"""CLI layer: a thin desktop front end over the inspection jobs."""
