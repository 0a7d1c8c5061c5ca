"""The rules' own decisions: kind and category from the lexicon's scores (also a feature of the model)."""
from __future__ import annotations


def rule_kind(tag: str | None, urgent: bool, best: int, help_score: int, problem: int, wish: int, chatter: int) -> str:
    """The kind the rules alone give, from the tag, urgency and the lexicon's scores."""
    if tag:
        return tag
    if wish >= 2 and wish + help_score > problem + best - 1 and chatter < wish + help_score:
        return "wish"
    if urgent:
        return "complaint"
    if help_score >= 3 and wish >= 2:
        return "wish"
    if best >= 2 and problem >= 2 and chatter < best + problem:
        return "complaint"
    if best >= 3 and problem >= 1 and chatter == 0:
        return "complaint"
    # Several words of one problem area and no chatter: a resident describing a problem without saying "broken".
    if best >= 5 and chatter == 0:
        return "complaint"
    return "none"


def rule_category(kind: str, scores: dict[str, tuple[int, list[str]]]) -> str:
    """The category the rules alone give: the highest-scoring one (a wish's, help unless another is clearly ahead)."""
    ranked = sorted(scores.items(), key=lambda item: -item[1][0])
    if kind == "wish":
        help_score = scores["help"][0]
        top, (top_score, _) = next((n, s) for n, s in ranked if n != "help")
        return top if top_score > help_score and top_score >= 3 else "help"
    name, (score, _) = next((n, s) for n, s in ranked if n != "help")
    return name if score > 0 else "other"
