"""report_claim (claim_form, following the claim hotline script) and ask_claim_status.

claim_form asks: claim type → identity (policy number, name, ID tail; skipped when verified) →
a policy that fits the claim type → description → time → place → police report and photos →
plate number (motor) → read-back and confirmation (deny → which item to correct).

``slots``: the form's slots and their stored values; ``report_form``: the validator;
``report``: the policy list, the read-back and the submit action; ``status``: ask_claim_status.
"""
