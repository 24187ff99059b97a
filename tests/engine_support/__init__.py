"""Test doubles for the run engine: a local fake provider and a loopback hosted fake."""
