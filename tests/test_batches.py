"""A batch travels to its task as a parcel: Prefect does not open it, Dask does not hash its records."""

from __future__ import annotations

import pickle

from dask.base import tokenize
from prefect.utilities.collections import visit_collection

from verbatim.flows.batches import Parcel
from verbatim.models.records import Answer


def _answers(n: int) -> list[Answer]:
    return [Answer(question="q", respondent_id=f"R{i}", row=i, text=f"Réponse {i}.") for i in range(n)]


def _visits(expr: object) -> int:
    seen = []
    visit_collection(expr, visit_fn=lambda e: seen.append(e) or e, return_data=False)
    return len(seen)


def test_prefect_does_not_open_a_parcel() -> None:
    """Prefect visits each field of each record of a plain list (what finding futures in a task's parameters does),
    a parcel once."""
    answers = _answers(200)
    assert _visits(answers) > 5 * len(answers)
    assert _visits(Parcel(answers)) == 1


def test_a_parcel_names_its_own_task_and_travels_whole() -> None:
    """Two parcels of the same records are two tasks for Dask (its key is the parcel's token, drawn once, not a
    hash of the records); pickled, a parcel keeps its records."""
    answers = _answers(50)
    first, second = Parcel(answers), Parcel(list(answers))
    assert tokenize(first) == tokenize(first)
    assert tokenize(first) != tokenize(second)
    travelled = pickle.loads(pickle.dumps(first))
    assert travelled.items == answers
    assert tokenize(travelled) == tokenize(first)
