"""Reading residents' messages: request or chatter, kind, category, place, urgency, with evidence."""
from handlers.intake.reader import Reader, Reading

__all__ = ["Reader", "Reading"]
