"""Back-office tickets: creation (create), who may see and do what (access), the state machine
(workflow), what the customer is told (notify) and the desk's read side (queries)."""
