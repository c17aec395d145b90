"""The theme model and its labels, on the sample survey with the real encoder and spaCy."""

from __future__ import annotations

import numpy as np
import pytest

from verbatim.formats.survey import build_answers, read_survey
from verbatim.nlp.clustering import MIN_EXCERPTS_TO_CLUSTER, QUEUE, AdaptiveClusterer, separation
from verbatim.nlp.labels import (
    MIN_CONTENT_WORDS,
    WEAK_WORDS,
    describe,
    describing_excerpt,
    label_parts,
    plain,
    representatives,
    same_term,
    written_in,
)
from verbatim.nlp.stopwords import STOP_WORDS
from verbatim.nlp.themes import (
    ThemeModel,
    candidate_sizes,
    clustering_space,
    lexical_coordinates,
    min_cluster_size_for,
    most_similar_first,
    nearest_neighbours,
)

from .conftest import SAMPLE
from .excerpt_support import Excerpts, split_answers


@pytest.fixture(scope="module")
def difficultes(splitter, use_encoder) -> Excerpts:  # type: ignore[no-untyped-def]
    table = read_survey(SAMPLE)
    ingested = build_answers(table, "id", ["difficultes"], [])
    answers = [a for a in ingested.answers if a.status is None]
    return split_answers([a.text for a in answers], [a.respondent_id for a in answers], splitter, use_encoder)


def _fit(data: Excerpts, seed: int = 42, **options: object) -> ThemeModel:
    return ThemeModel(seed=seed, **options).fit(  # type: ignore[arg-type]
        data.embeddings, data.lemmas, data.surfaces, data.texts, data.groups
    )


@pytest.fixture(scope="module")
def model(difficultes: Excerpts) -> ThemeModel:
    return _fit(difficultes)


# -- granularity ---------------------------------------------------------------------------------------------------
def test_min_cluster_size_grows_with_the_corpus() -> None:
    sizes = [min_cluster_size_for(n) for n in (10, 100, 400, 1_000, 10_000, 100_000)]
    assert sizes == sorted(sizes)
    assert sizes[0] == 5  # never below 5
    assert 8 <= min_cluster_size_for(400) <= 20
    assert min_cluster_size_for(100_000) < 1_000  # themes of 1% of a big corpus are still themes


def test_a_tiny_set_makes_one_theme(difficultes: Excerpts) -> None:
    n = MIN_EXCERPTS_TO_CLUSTER - 1
    small = Excerpts(
        difficultes.texts[:n],
        difficultes.lemmas[:n],
        difficultes.surfaces[:n],
        difficultes.groups[:n],
        difficultes.embeddings[:n],
    )
    fitted = _fit(small)
    assert fitted.granularity_["method"] == "single"
    assert len(fitted.themes_) == 1
    assert set(fitted.labels_.tolist()) <= {0, QUEUE}
    assert fitted.themes_[0].label


def test_the_clusterer_falls_back_when_hdbscan_finds_no_two_themes() -> None:
    rng = np.random.default_rng(0)
    blob = rng.normal(size=(40, 5))  # one Gaussian blob: HDBSCAN sees one theme at most
    clusterer = AdaptiveClusterer(min_cluster_size=30, min_samples=10).fit(blob)
    assert clusterer.method_ == "agglomerative"
    assert len(set(clusterer.labels_.tolist())) >= 2
    assert QUEUE not in clusterer.labels_


def test_the_clusterer_keeps_hdbscan_when_the_data_has_themes() -> None:
    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(loc=10 * i, size=(30, 5)) for i in range(3)])
    clusterer = AdaptiveClusterer(min_cluster_size=10, min_samples=3).fit(blobs)
    assert clusterer.method_.startswith("hdbscan")
    assert len(set(clusterer.labels_.tolist()) - {QUEUE}) == 3


def test_candidate_sizes_start_at_the_rule_and_only_coarsen() -> None:
    for n in (50, 600, 20_000):
        sizes = candidate_sizes(n)
        assert list(sizes) == sorted(set(sizes)) and min(sizes) >= 5
        assert min(sizes) == min_cluster_size_for(n), "never finer than the rule"
        assert max(sizes) >= 2 * min_cluster_size_for(n) - 1


def test_separation_rewards_apart_themes_and_discounts_what_is_left_out() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(loc=10 * i, size=(30, 5)) for i in range(3)])
    truth = np.repeat([0, 1, 2], 30)
    mixed = np.tile([0, 1, 2], 30)
    assert separation(x, truth) > 0.8 > separation(x, mixed)
    half_out = truth.copy()
    half_out[::2] = QUEUE
    assert separation(x, half_out) == pytest.approx(separation(x[1::2], truth[1::2]) * 0.5)
    assert separation(x, np.zeros(90, dtype=int)) == -1.0


def test_the_clusterer_chooses_the_granularity_that_separates_themes() -> None:
    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(loc=10 * i, size=(30, 5)) for i in range(4)])
    # Size 45 cannot see four themes of 30; sizes 5 and 10 can, and separate them far better.
    clusterer = AdaptiveClusterer([5, 10, 45], seed=0, preferred=45).fit(blobs)
    assert clusterer.chosen_[0] in (5, 10)
    assert len(set(clusterer.labels_.tolist()) - {QUEUE}) == 4
    assert [c["min_cluster_size"] for c in clusterer.selection_] == [5, 10, 45]
    again = AdaptiveClusterer([5, 10, 45], seed=0, preferred=45).fit(blobs)
    assert np.array_equal(again.labels_, clusterer.labels_) and again.selection_ == clusterer.selection_


def test_the_rule_size_is_kept_when_no_other_separates_clearly_better() -> None:
    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(loc=10 * i, size=(30, 5)) for i in range(3)])
    clusterer = AdaptiveClusterer([8, 10, 12], seed=0, preferred=12).fit(blobs)  # all three see the same themes
    scores = {c["min_cluster_size"]: c["score"] for c in clusterer.selection_}
    assert max(scores.values()) <= scores[12] * 1.005
    assert clusterer.chosen_[0] == 12


def test_a_granularity_with_one_dominant_theme_is_not_chosen() -> None:
    rng = np.random.default_rng(1)
    # One big diffuse group and two small tight ones: the coarse size lumps most points together.
    big = rng.normal(scale=3.0, size=(150, 5))
    small = [rng.normal(loc=20 + 8 * i, scale=0.5, size=(20, 5)) for i in range(2)]
    x = np.vstack([big, *small])
    clusterer = AdaptiveClusterer([5, 10, 15], seed=0).fit(x)
    for c in clusterer.selection_:
        if c["min_cluster_size"] == clusterer.chosen_[0]:
            assert c["largest"] <= 0.5 or all(o["largest"] > 0.5 for o in clusterer.selection_)


def _sizes(labels: np.ndarray) -> list[int]:
    return sorted(np.bincount(labels[labels != QUEUE]).tolist(), reverse=True)


def test_a_theme_that_swallows_its_neighbours_is_cut_into_them() -> None:
    rng = np.random.default_rng(0)
    # Three groups side by side and a fourth a little apart: "excess of mass" takes the three as one theme.
    x = np.vstack(
        [rng.normal(loc=(5 * i, 0, 0, 0, 0), size=(60, 5)) for i in range(3)]
        + [rng.normal(loc=(5, 10, 0, 0, 0), size=(60, 5))]
    )
    clusterer = AdaptiveClusterer(10, seed=0)
    swallowed, _ = clusterer._hdbscan(x, 10, "eom")
    assert _sizes(swallowed)[0] == 180
    labels, _ = clusterer._eom(x, 10)
    assert len(_sizes(labels)) == 4 and max(_sizes(labels)) <= 60
    assert np.mean(labels != QUEUE) >= 0.75


def test_a_dominant_theme_without_sub_themes_is_not_cut_into_noise() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(size=(150, 5)), rng.normal(loc=30, size=(40, 5))])
    labels, _ = AdaptiveClusterer(10, seed=0)._eom(x, 10)
    assert _sizes(labels) == [150, 40]


# -- the space that is clustered -----------------------------------------------------------------------------------
def test_lexical_coordinates_bring_texts_sharing_lemmas_together() -> None:
    docs = ["carte vitale perdre", "carte vitale renouveler", "mot passe oublier", "mot passe changer", ""] * 3
    lexical = lexical_coordinates(docs, seed=0)
    norms = np.linalg.norm(lexical, axis=1)
    assert np.allclose(norms[[0, 1, 2, 3]], 1.0, atol=1e-5) and norms[4] == 0.0  # no lemma, no direction
    sims = lexical @ lexical.T
    assert sims[0, 1] > 0.3 > sims[0, 2]
    assert np.array_equal(lexical, lexical_coordinates(docs, seed=0))
    assert not lexical_coordinates(["", ""]).any()  # nothing to read: no lexical signal at all


def test_the_clustered_space_weighs_lemmas_next_to_the_embedding() -> None:
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(12, 8)).astype(np.float32) * 3
    docs = ["carte vitale", "mot passe", "rendez-vous caf"] * 4
    assert np.allclose(  # to the 6 decimals the space keeps (settled)
        clustering_space(embeddings, docs, weight=0), embeddings / np.linalg.norm(embeddings, axis=1)[:, None],
        rtol=0, atol=5.1e-7,
    )  # fmt: skip
    space = clustering_space(embeddings, docs, seed=0, weight=0.5)
    semantic = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    lexical = lexical_coordinates(docs, seed=0)
    unit = space / np.linalg.norm(space, axis=1, keepdims=True)
    expected = (semantic @ semantic.T + 0.25 * (lexical @ lexical.T)) / 1.25
    assert np.allclose(unit @ unit.T, expected, atol=1e-5)


def test_the_nearest_neighbours_are_those_of_a_stable_sort_of_each_whole_row() -> None:
    """The neighbour graph the consensus's fits share: each row's most similar first and, among equal similarities,
    the lowest index first, as a stable sort of the whole row gives them; also where repeated points tie beyond the
    candidates sorted (the whole row is then sorted)."""
    rng = np.random.default_rng(3)
    spread = rng.normal(size=(400, 12))
    repeated = np.vstack([spread[:100], spread[:10].repeat(30, axis=0)])  # ten points repeated 31 times each
    for points in (spread, repeated):
        for k in (1, 5, 15):
            indices, distances = nearest_neighbours(points, k)
            x = points / np.linalg.norm(points, axis=1, keepdims=True)
            sims = np.round(x @ x.T, 12)
            np.fill_diagonal(sims, np.inf)
            assert (indices == np.argsort(-sims, axis=1, kind="stable")[:, :k]).all()
            assert (indices[:, 0] == np.arange(len(points))).all() and (distances[:, 0] == 0).all()
            assert (np.diff(distances, axis=1) >= 0).all()
    ties = rng.integers(0, 3, size=(60, 40)).astype(float)  # few values: ties at the k-th in most rows
    assert (most_similar_first(ties, 6) == np.argsort(-ties, axis=1, kind="stable")[:, :6]).all()


# -- words that are the same term (phrase labels never pair them) ---------------------------------------------------
def test_same_term_ignores_accents_plurals_and_verb_endings() -> None:
    assert same_term("télétravail", "télétravailler")
    assert same_term("symptome", "symptômes")
    assert same_term("usager", "usagers")
    assert not same_term("information", "informatique")
    assert not same_term("format", "formation")


def test_same_term_joins_a_noun_and_its_verb() -> None:
    assert same_term("organisation", "organiser")
    assert same_term("formation", "former")
    assert same_term("demande", "demander")
    assert not same_term("information", "informatique")
    assert not same_term("partie", "partir")
    assert not same_term("national", "nation")


def test_describe_cuts_long_excerpts_at_a_word() -> None:
    assert describe("  Trop   de\nlogiciels  ") == "Trop de logiciels"
    line = describe("mot " * 100)
    assert len(line) <= 170 and line.endswith("[…]") and "  " not in line
    assert describing_excerpt(["Non.", "On saisit tout trois fois dans trois logiciels"]).startswith("On saisit")
    assert describing_excerpt(["Non.", "Rien"]) == "Non."


def test_representatives_are_central_diverse_and_from_different_respondents() -> None:
    centroid = np.array([1.0, 0.0, 0.0])
    embeddings = np.array(
        [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.9, 0.436, 0.0], [0.9, 0.0, 0.436], [-1.0, 0.0, 0.0]], dtype=np.float32
    )
    picks = representatives(embeddings, centroid, ["a", "a", "b", "c", "d"], k=3)
    assert picks[0] == 0  # the most central first
    assert 1 not in picks  # same respondent and same text as the first pick
    assert set(picks) == {0, 2, 3}
    assert 4 not in picks


def test_a_central_empty_phrase_gives_way_to_one_that_says_something() -> None:
    centroid = np.array([1.0, 0.0, 0.0])
    embeddings = np.array([[1.0, 0.0, 0.0], [0.95, 0.312, 0.0], [0.9, 0.0, 0.436]], dtype=np.float32)
    lemmas = [("compliqué",), ("démarche", "ligne", "compliqué", "personne", "âgé"), ("logiciel", "saisie", "double")]
    picks = representatives(embeddings, centroid, ["a", "b", "c"], k=2, lemmas=lemmas, keywords={"démarche", "ligne"})
    assert picks == [1, 2], "the most central excerpt says one word: it comes last"
    assert representatives(embeddings, centroid, ["a", "b", "c"], k=3, lemmas=lemmas)[-1] == 0, (
        "still a pick when no other is left"
    )
    assert representatives(embeddings, centroid, ["a", "b", "c"], k=1) == [0], "without lemmas: centrality alone"


# -- the model on the sample survey --------------------------------------------------------------------------------
def test_several_readable_themes(model: ThemeModel, difficultes: Excerpts) -> None:
    n_themes = len(model.themes_)
    assert 4 <= n_themes <= 25, [t.label for t in model.themes_]
    for theme in model.themes_:
        words = [w.strip(",").lower() for w in theme.label.split()]
        assert theme.label[0].isupper() or not theme.label[0].isalpha()
        assert not all(w in STOP_WORDS or w in WEAK_WORDS for w in words), theme.label
        assert theme.description and "\n" not in theme.description
        assert len(theme.representatives) == len(set(theme.representatives))
        reps_groups = [difficultes.groups[i] for i in theme.representatives]
        assert len(set(reps_groups)) == len(reps_groups)  # plenty of respondents in every theme
        assert set(theme.representatives) <= set(theme.members)
        assert theme.n_respondents == len({difficultes.groups[i] for i in theme.members})
    assert all(len(t.keywords) <= 10 for t in model.themes_)


def test_labels_are_phrases_respondents_wrote(model: ThemeModel, difficultes: Excerpts) -> None:
    """One or two phrases (never a list of three keywords), each found word for word in the theme's excerpts, short,
    not ending on an article, a preposition or a negation; no two labels alike in the question. Held at seeds 0, 1,
    2, 3 and 42 on both questions of the sample survey (89 themes, every part verbatim)."""
    dangling = {"de", "d'", "du", "des", "la", "le", "les", "l'", "un", "une", "a", "au", "aux", "en", "pour", "et"}
    for theme in model.themes_:
        parts = label_parts(theme.label)
        assert 1 <= len(parts) <= 2, theme.label
        texts = [difficultes.texts[i] for i in theme.members]
        for part in parts:
            assert written_in(part, texts), f"{part!r} of {theme.label!r} is not in its theme's excerpts"
            words = plain(part).split()
            assert len(words) <= 6 and words[-1] not in dangling | {"pas", "non", "ne", "jamais"}, theme.label
    labels = [plain(t.label) for t in model.themes_]
    assert len(set(labels)) == len(labels), labels


def test_representative_quotes_say_something(model: ThemeModel, difficultes: Excerpts) -> None:
    """No quote of a handful of empty words ("Bref, c'est compliqué.", "Les difficultés sont nombreuses.") while the
    theme has enough excerpts that say something; measured at seed 42: 96 such excerpts in the themes, 6 of them were
    quotes when quotes were ranked by centrality alone, 0 now. A theme whose every excerpt says little ("Sans
    mots-clés") can only be quoted by them."""

    def says_little(i: int) -> bool:
        return len(set(difficultes.lemmas[i])) < MIN_CONTENT_WORDS

    assert sum(says_little(i) for t in model.themes_ for i in t.members) >= 20, "the sample has empty phrases"
    members: list[np.ndarray] = []
    quotes: list[np.ndarray] = []
    mixed = 0  # themes with excerpts that say little and enough that say something
    for j, theme in enumerate(model.themes_):
        rich = [i for i in theme.members if not says_little(i)]
        if len(rich) >= len(theme.representatives):
            mixed += len(rich) < len(theme.members)
            assert not [difficultes.texts[i] for i in theme.representatives if says_little(i)], theme.label
        # still central: near the theme's centre as its average excerpt (the quotes are also diverse)
        members.append(difficultes.embeddings[list(theme.members)] @ model.centroids_[j])
        quotes.append(difficultes.embeddings[list(theme.representatives)] @ model.centroids_[j])
        assert quotes[-1].mean() >= members[-1].mean() - 0.1, theme.label
    assert np.concatenate(quotes).mean() >= np.concatenate(members).mean() + 0.02
    assert mixed >= 5, "themes where a quote could have said little"


def test_the_granularity_is_reported(model: ThemeModel, difficultes: Excerpts) -> None:
    granularity = model.granularity_
    sizes = [c["min_cluster_size"] for c in granularity["candidates"]]
    assert granularity["min_cluster_size"] in sizes
    assert set(sizes) <= set(candidate_sizes(len(difficultes.texts)))
    fixed = _fit(difficultes, min_cluster_size=8)
    assert fixed.granularity_["min_cluster_size"] == 8
    assert [c["min_cluster_size"] for c in fixed.granularity_["candidates"]] == [8]


def test_every_excerpt_has_a_theme_or_is_queued(model: ThemeModel, difficultes: Excerpts) -> None:
    assert len(model.labels_) == len(difficultes.texts)
    ids = {t.theme_id for t in model.themes_}
    assert set(model.labels_.tolist()) <= ids | {QUEUE}
    members = sorted(i for t in model.themes_ for i in t.members)
    assert members == np.flatnonzero(model.labels_ != QUEUE).tolist()
    assert np.mean(model.labels_ != QUEUE) >= 0.8
    assert [t.theme_id for t in model.themes_] == list(range(len(model.themes_)))
    sizes = [len(t.members) for t in model.themes_]
    assert sizes == sorted(sizes, reverse=True)


def test_scores_are_in_the_unit_interval_and_runner_ups_are_other_themes(model: ThemeModel) -> None:
    assert ((model.scores_ >= 0) & (model.scores_ <= 1)).all()
    coded = model.labels_ != QUEUE
    assert (model.runner_up_[coded] != model.labels_[coded]).all()


def test_assign_agrees_with_fit(model: ThemeModel, difficultes: Excerpts) -> None:
    assigned = model.assign(difficultes.embeddings)
    coded = model.labels_ != QUEUE
    agreement = np.mean(assigned.labels[coded] == model.labels_[coded])
    assert agreement >= 0.8
    queued = model.labels_ == QUEUE
    assert (assigned.labels[queued] == QUEUE).all()  # the queue is what fits no theme
    again = model.assign(difficultes.embeddings[:5])
    assert np.array_equal(again.labels, assigned.labels[:5])


def test_same_seed_same_themes(model: ThemeModel, difficultes: Excerpts) -> None:
    again = _fit(difficultes)
    assert np.array_equal(again.labels_, model.labels_)
    assert np.array_equal(again.scores_, model.scores_)
    assert again.themes_ == model.themes_


def test_the_consensus_fits_give_the_same_themes_in_worker_processes(model: ThemeModel, difficultes: Excerpts) -> None:
    from verbatim.nlp.themes import PARALLEL_FITS_FROM

    assert len(difficultes.texts) >= PARALLEL_FITS_FROM, "enough excerpts for the fits to run in two processes"
    in_workers = _fit(difficultes, jobs=2)
    assert np.array_equal(in_workers.labels_, model.labels_)
    assert in_workers.themes_ == model.themes_
    assert in_workers.granularity_ == model.granularity_


def test_the_consensus_keeps_what_most_labelings_agree_on() -> None:
    from verbatim.nlp.themes import co_association, consensus_labels

    base = np.repeat([0, 1, 2], 10)
    renumbered = np.repeat([2, 0, 1], 10)  # the same themes under other numbers
    moved = base.copy()
    moved[0] = 1  # one labelling puts the first point elsewhere
    left_out = base.copy()
    left_out[10:20] = QUEUE  # one leaves the second theme out
    together = co_association([base, renumbered, moved])
    assert together[0, 1] == pytest.approx(2 / 3) and together[1, 2] == 1.0 and together[0, 15] == pytest.approx(1 / 3)
    assert co_association([left_out])[10, 11] == 0.0  # left out is never together
    assert np.array_equal(consensus_labels([base, renumbered, moved], min_size=5), base)
    alone = consensus_labels([base, left_out, left_out], min_size=5)
    assert set(alone[10:20].tolist()) == {QUEUE} and np.array_equal(alone[[0, 20]], [0, 1])


def test_a_fit_s_libraries_and_worker_pool_can_be_readied_in_the_background() -> None:
    """What the flow asks while its Dask workers embed: the imports (and, above the threshold, the consensus's
    worker processes) done in a thread, so that the fit does not wait for them."""
    import subprocess
    import sys

    probe = (
        "import sys, threading\n"
        "from verbatim.nlp.themes import ThemeModel\n"
        "assert 'bertopic' not in sys.modules\n"
        "ThemeModel(jobs=2).prepare_in_background(1000)\n"
        "[t.join() for t in threading.enumerate() if t.name == 'prepare-theme-fit']\n"
        "import psutil\n"
        "workers = [c for c in psutil.Process().children() if 'LokyProcess' in ' '.join(c.cmdline())]\n"
        "print(*sorted(m for m in ('bertopic', 'umap', 'hdbscan') if m in sys.modules), len(workers))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["bertopic", "hdbscan", "umap", "2"], done.stdout
