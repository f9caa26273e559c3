"""dossier-review: pre-reading of certification dossiers with grounded evidence."""

__version__ = "0.1.0"
