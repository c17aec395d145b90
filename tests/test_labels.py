"""Theme labels made of phrases respondents wrote: spaCy's parser on a few excerpts, the ranking, the fallback."""

from __future__ import annotations

from tests.concurrency import errors_of_concurrent_calls
from verbatim.nlp.excerpts import content_lemmas
from verbatim.nlp.labels import fallback_label, label_parts, phrase_labels, plain, written_in
from verbatim.nlp.phrases import excerpt_phrases
from verbatim.nlp.spacy_pipeline import load_pipeline

DANGLING = {"de", "d'", "du", "des", "la", "le", "les", "l'", "un", "une", "a", "au", "aux", "en", "pour", "et"}
NEGATIONS = {"ne", "n'", "pas", "non", "jamais", "plus"}


def _phrases(text: str) -> dict[str, tuple[str, ...]]:
    return {p.text: p.key for p in excerpt_phrases([text])[0]}


def _lemmas(texts: list[str]) -> list[tuple[str, ...]]:
    nlp = load_pipeline("analyse")
    return [content_lemmas(doc, 0, len(doc.text))[0] for doc in nlp.pipe(texts)]


def test_phrases_are_noun_and_verb_phrases_as_written() -> None:
    found = _phrases("La messagerie non sécurisée pose problème dans les zones blanches.")
    assert {"messagerie non sécurisée", "zones blanches", "messagerie"} <= set(found)
    assert found["zones blanches"] == ("zone", "blanc"), "keys are the excerpts' lemmas"
    assert "manque de formation" in _phrases("CONFIDENTIALITÉ / MANQUE DE FORMATION !"), "shouting is lower-cased"
    ideas = _phrases("Il faudrait simplifier les démarches et former les équipes. Sensibiliser aux arnaques.")
    assert {"simplifier les démarches", "former les équipes", "sensibiliser aux arnaques"} <= set(ideas)
    assert all(p.verbal == (p.text.split()[0] in {"simplifier", "former", "sensibiliser"}) for p in
               excerpt_phrases(["Il faudrait simplifier les démarches et former les équipes."])[0])  # fmt: skip
    assert "CAF" in _phrases("Les dossiers de la CAF se perdent."), "acronyms keep their capitals"
    assert "Emma Stone" in _phrases("Le film avec Emma Stone a gagné."), "so do names"


def test_phrases_never_start_or_end_on_an_empty_word() -> None:
    texts = [
        "Nous n'avons pas de messagerie sécurisée, donc les informations passent par des mails classiques.",
        "Une seule connexion pour toutes les démarches, sans code envoyé par SMS à chaque fois.",
        "Le manque de formation aux outils de la CAF, le Val-de-Marne manque de médecins.",
    ]
    for phrases in excerpt_phrases(texts):
        for p in phrases:
            words = [plain(w) for w in p.text.split()]
            assert words[0] not in DANGLING and words[-1] not in DANGLING | NEGATIONS, p.text
            assert len(words) <= 6 and p.key
            assert "val-de" not in words, "no piece of a hyphenated word"


def test_a_denied_noun_keeps_its_negation() -> None:
    assert _phrases("Je n'ai pas de problème avec ça.")["pas de problème"] == ("pas", "problème")
    found = _phrases("Aucune difficulté particulière.")
    assert found["aucune difficulté"] != found["difficulté"], "'aucune difficulté' is not 'difficulté'"


GROUPS = {
    "ordinateurs": [
        "Nos ordinateurs lents font perdre du temps.",
        "Des ordinateurs lents et des pannes toutes les semaines.",
        "Les ordinateurs lents plantent en plein rendez-vous.",
        "Encore des pannes de réseau cette semaine.",
        "Des pannes sans arrêt, des ordinateurs lents.",
    ],
    "formation": [
        "Le manque de formation aux logiciels est criant.",
        "Aucune formation, on apprend seuls : manque de formation.",
        "Un manque de formation sur les nouveaux outils.",
        "Le manque de formation pèse sur les équipes.",
        "Toujours ce manque de formation.",
    ],
    "idees": [
        "Simplifier les démarches pour les usagers.",
        "Il faudrait simplifier les démarches en ligne.",
        "Simplifier les démarches et les formulaires.",
        "Simplifier les démarches administratives.",
        "Former les agents, simplifier les démarches.",
    ],
}


def _labels(groups: dict[str, list[str]]) -> dict[str, str]:
    texts = [t for rows in groups.values() for t in rows]
    members, start = [], 0
    for rows in groups.values():
        members.append(list(range(start, start + len(rows))))
        start += len(rows)
    labels = phrase_labels(texts, _lemmas(texts), members, members)
    return dict(zip(groups, labels, strict=True))


def test_a_label_is_the_phrase_respondents_wrote_most_specific_to_its_theme() -> None:
    labels = _labels(GROUPS)
    assert labels["ordinateurs"].startswith("Ordinateurs lents"), labels
    assert labels["formation"].startswith("Manque de formation"), labels
    assert labels["idees"].startswith("Simplifier les démarches"), labels
    for name, label in labels.items():
        parts = label_parts(label)
        assert 1 <= len(parts) <= 2 and label[0].isupper()
        assert all(written_in(part, GROUPS[name]) for part in parts), label
    assert len({plain(label) for label in labels.values()}) == len(labels)


def test_two_themes_never_share_a_label() -> None:
    same = {
        "a": ["Le manque de formation aux logiciels.", "Manque de formation.", "Un manque de formation criant."],
        "b": ["Manque de formation, vraiment.", "Le manque de formation encore.", "Manque de formation des agents."],
    }
    labels = _labels(same)
    assert plain(labels["a"]) != plain(labels["b"]), labels
    words = [set(plain(label).replace(",", "").split()) for label in labels.values()]
    assert not all({"manque", "formation"} <= w for w in words), "nor the same phrase cut in two keywords"
    for name, label in labels.items():
        assert all(written_in(part, same[name]) for part in label_parts(label)), label


def test_a_theme_without_phrases_is_named_by_its_first_words() -> None:
    assert _labels({"rien": ["Rien à signaler.", "Non.", "Rien."]})["rien"] == "Rien à signaler"
    assert fallback_label("« Aucune » idée pour le moment") == "Aucune"
    assert fallback_label("Je ne sais pas quoi dire de plus sur") == "Je ne sais pas quoi dire"
    assert fallback_label("Non, pas de") == "Sans mots-clés"
    assert written_in("zones blanches", ["Les ZONES   Blanches"]) and not written_in("zone", ["zones"])


def test_a_pipeline_two_threads_ask_for_at_once_is_loaded_once() -> None:
    """The themes load the parser in the background while the labels may ask for it: they share one load."""
    import importlib

    import verbatim.nlp.spacy_pipeline as pipeline

    importlib.reload(pipeline)  # a process that has loaded nothing yet
    loaded: list[object] = []
    errors = errors_of_concurrent_calls(lambda purpose: loaded.append(pipeline.load_pipeline(purpose)), ["parse"] * 2)
    assert not errors and len(loaded) == 2 and loaded[0] is loaded[1]
