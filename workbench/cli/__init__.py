"""The command-line front end: thin wrappers over core calls."""
