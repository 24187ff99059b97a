"""workbench: choose a text-to-video model on evidence.

The core package (everything outside ``workbench.tui``) never imports textual.
"""

__version__ = "0.1.0"
