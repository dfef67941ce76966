"""The answer core: question analysis, evidence, the answer plan. No UI framework imported here."""

from heprag.app.answering.plan import Corpus, Plan, Planner
from heprag.app.answering.question import Question, analyse

__all__ = ["Corpus", "Plan", "Planner", "Question", "analyse"]
