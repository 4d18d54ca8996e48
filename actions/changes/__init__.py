"""The change forms (bot/services/changes/): beneficiary, contact details, debit account.

Each form asks the identity questions first (IdentityFormValidation, skipped when verified), then
its own questions, reads everything back masked and asks for confirmation; the submit action
opens a maker-checker ticket (idempotent) and replies with its number, the documents and the
timeline. ``base``: what they share; one module a change.
"""
