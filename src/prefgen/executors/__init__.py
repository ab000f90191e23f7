"""The only package that imports Ray: starting or joining a cluster, the engine pool, scoring tasks."""
