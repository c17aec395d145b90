"""Answers split into excerpts as the flow does, with lemmas, respondents and USE embeddings, for theme tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Excerpts:
    texts: list[str]
    lemmas: list[tuple[str, ...]]
    surfaces: list[tuple[str, ...]]
    groups: list[str]
    embeddings: np.ndarray


def split_answers(answers: Sequence[str], groups: Sequence[str], splitter: Any, encoder: Any) -> Excerpts:
    """Every excerpt of ``answers`` (``groups`` names each answer's respondent), embedded by ``encoder``."""
    texts, lemmas, surfaces, owners = [], [], [], []
    for answer, group, parts in zip(answers, groups, splitter.split(list(answers)), strict=True):
        for s in parts:
            texts.append(answer[s.start : s.end])
            lemmas.append(s.lemmas)
            surfaces.append(s.surfaces)
            owners.append(group)
    return Excerpts(texts, lemmas, surfaces, owners, encoder.encode(texts))
