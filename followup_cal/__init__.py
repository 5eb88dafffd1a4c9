"""followup_cal: a job seeker's calendar in, interview follow-ups out."""

__version__ = "0.1.0"
