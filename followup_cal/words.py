"""The fixed vocabularies of the interfaces (DESIGN.md), importable without the model:
the CLI needs them to build its options, and --help must start fast."""

KINDS = ("prep", "thank_you_email", "thank_you_note", "check_in", "move_on")
CHANNELS = ("email", "mail", "phone")
OUTCOMES = ("offer", "rejected", "withdrawn", "heard-back")
