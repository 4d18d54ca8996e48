"""Insurance customer-service assistant: the application package (imports no Rasa)."""

__version__ = "0.1.0"
