"""Custom Rasa NLU components (loaded by Rasa from config.yml; run Rasa from the project root)."""
