"""Serving at scale: the tracker store, private Redis and PostgreSQL, replicas behind a balancer."""
