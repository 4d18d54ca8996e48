"""Background work the app runs on a schedule (premium reminders), and its scheduler."""
