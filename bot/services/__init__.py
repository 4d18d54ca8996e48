"""Use cases. Every function takes a SQLAlchemy ``Session`` and never commits: the caller owns
the transaction."""
