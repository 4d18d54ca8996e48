"""Code the Rasa server loads (runs in .venv-rasa, never imported by ``bot``).

- ``rasa_addons.channels.SecretRestInput``: the REST channel the app talks to, refusing calls
  without the shared secret (credentials.yml);
- ``rasa_addons.tracker_store.RedactingSQLTrackerStore``: Rasa's SQL tracker store that masks
  verification answers and full ID / card / mobile numbers of finished turns (endpoints.yml);
- ``python -m rasa_addons.serve``: starts ``rasa run`` with the API token read from the
  environment, so that no secret is on the command line.

Shared by the three (standard library only): ``rasa_addons.secrets``, ``rasa_addons.redaction``.
"""
