"""Pseudonymisation of French survey answers, on the real spaCy model (no mocks).

Each category is masked in its usual shapes; the never-mask terms (institutions, professions, software, places)
are kept; the configuration works; offsets point into the original text; ``mask_many`` equals ``mask``; and the
labelled gold set meets the goals: recall 1.00 on EMAIL, TÉLÉPHONE and NUMÉRO, recall >= 0.95 and precision >= 0.90
on PERSONNE, no never-mask term masked.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
import spacy
from pydantic import ValidationError

from verbatim.errors import ConfigError
from verbatim.nlp import spacy_pipeline
from verbatim.nlp.pseudonymise import (
    Mask,
    MaskCache,
    MaskCategory,
    MaskedText,
    Pseudonymiser,
    PseudonymiserConfig,
    _is_known_variant,
    _word_ranks,
    builtin_first_names,
    builtin_never_mask,
    fold,
    never_mask_spans,
)

GOLD = Path(__file__).parent / "data" / "pseudonymisation_gold.jsonl"
SAMPLE_SURVEY = Path(__file__).parents[1] / "data" / "sample_survey.csv"
P, E, T, A, N, U, D = (
    MaskCategory.PERSONNE,
    MaskCategory.EMAIL,
    MaskCategory.TELEPHONE,
    MaskCategory.ADRESSE,
    MaskCategory.NUMERO,
    MaskCategory.URL,
    MaskCategory.DATE_NAISSANCE,
)


@pytest.fixture(scope="module")
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser()


def found(p: Pseudonymiser, text: str) -> list[tuple[str, MaskCategory]]:
    return [(text[m.start : m.end], m.category) for m in p.find(text)]


def load_gold() -> list[tuple[str, list[tuple[int, int, str]]]]:
    records = []
    for line in GOLD.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        records.append((obj["text"], [(s, e, c) for s, e, c in obj["spans"]]))
    return records


# --- each category, several shapes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("J'ai accompagné Rose hier à la CAF.", [("Rose", P)]),
        ("Mme Rose de la CAF m'a rappelée.", [("Rose", P)]),
        ("M. Martin de France Travail ne répond pas.", [("Martin", P)]),
        ("Monsieur Nguyen n'a pas de compte Ameli.", [("Nguyen", P)]),
        ("Fatou Diallo est venue avec son fils Mohamed.", [("Fatou Diallo", P), ("Mohamed", P)]),
        ("Jean-Pierre de La Fontaine est bénévole.", [("Jean-Pierre de La Fontaine", P)]),
        ("Marie-Claire gère les inscriptions.", [("Marie-Claire", P)]),
        ("mme dupont souhaite un rendez-vous.", [("dupont", P)]),
        ("madame kowalski est venue, mr traoré aussi.", [("kowalski", P), ("traoré", P)]),
        ("M. X refuse toute démarche en ligne.", [("X", P)]),
        ("Le Dr Lefebvre envoie ses certificats.", [("Lefebvre", P)]),
        ("Monsieur Le Goff a 82 ans.", [("Le Goff", P)]),
        ("Monsieur DIALLO Amadou vient chaque semaine.", [("DIALLO Amadou", P)]),
        ("Avec Mme la juge Bonnet sur ce dossier.", [("Bonnet", P)]),
        ("Ibrahima Sow est venu au CCAS.", [("Ibrahima Sow", P)]),
        ("Je travaille avec Lucienne depuis 10 ans.", [("Lucienne", P)]),
        ("Zoé, 16 ans, n'a pas de téléphone.", [("Zoé", P)]),
    ],
)
def test_person_names(pseudonymiser: Pseudonymiser, text: str, expected: list[tuple[str, MaskCategory]]) -> None:
    assert found(pseudonymiser, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Une pierre, la rose, le marin, une couleur olive.",
        "La rose des vents du logo a été choisie par les jeunes.",
        "Madame la directrice a validé, Monsieur le maire aussi.",
        "Monsieur souhaite un rendez-vous, madame refuse de donner son mail.",
        "Le collège Jean Moulin prête des tablettes, près de la place Victor Hugo.",
        "Le Président de la République a annoncé la fin des formulaires papier.",
    ],
)
def test_common_words_and_places_are_not_names(pseudonymiser: Pseudonymiser, text: str) -> None:
    assert found(pseudonymiser, text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Ordis qui plantent tout le temps.",
        "- Imprimantes hors service\n- Scanner partagé",
        "• Hotlines injoignables;\n• Demarches trop longues",
        "1. Aidants numériques\n2) Tutos en vidéo\n3) Permanences sans rendez-vous",
        "Illectronisme des seniors.",
        "Proteger les données des usagers.",
        "Reduire les délais de la MDPH.",
        "Cybersecurite absente, mails non chiffrés.",
        "Rdv annulés, Pb de réseau.",
        "MESSAGERIE saturée.",
    ],
)
def test_common_words_opening_a_sentence_or_a_list_item_are_not_names(pseudonymiser: Pseudonymiser, text: str) -> None:
    """Telegraphic answers: plurals, abbreviations, missing accents, loanwords at the start of a line stay."""
    assert found(pseudonymiser, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kevin m'a appelé trois fois.", [("Kevin", P)]),
        ("- Mme Ba ne comprend pas les SMS.", [("Ba", P)]),
        ("• Kemal vient chaque semaine.", [("Kemal", P)]),
        ("2) Nadège, 19 ans, sans ordinateur.", [("Nadège", P)]),
        ("Wojcik est passé sans rendez-vous.", [("Wojcik", P)]),
    ],
)
def test_names_opening_a_sentence_or_a_list_item_are_masked(
    pseudonymiser: Pseudonymiser, text: str, expected: list[tuple[str, MaskCategory]]
) -> None:
    assert found(pseudonymiser, text) == expected


def test_word_ranks_and_variants() -> None:
    """The vocabulary's frequency order tells common words (mostly lower case) from names (mostly capitalised)."""
    ranks = _word_ranks(spacy_pipeline.load_pipeline("ner").vocab)
    assert ranks.rank("de") == 1
    assert ranks.rank("zzqxw-not-a-word") is None
    for word in ("imprimante", "ordis", "illectronisme", "hotline"):
        assert ranks.mostly_lower_case(word), word
    for name in ("fatou", "diallo", "nguyen", "kemal", "kowalski", "jocelyne", "dupont", "martin"):
        assert not ranks.mostly_lower_case(name), name
    for word in ("demarches", "proteger", "aidants", "telephones", "tutoriels"):
        assert _is_known_variant(word, ranks), word
    for name in ("dupont", "kemal", "fatou", "diallo", "thomas"):
        assert not _is_known_variant(name, ranks), name


def test_sample_survey_precision(pseudonymiser: Pseudonymiser) -> None:
    """On the sample survey, at most one false person name, and both real names are masked."""
    with SAMPLE_SURVEY.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    texts = [row[c] for row in rows for c in ("difficultes", "idees") if row[c] and row[c].strip()]
    assert len(texts) > 500
    names = [
        (text[max(0, m.start - 4) : m.start].strip(), text[m.start : m.end])
        for text, result in zip(texts, pseudonymiser.mask_many(texts), strict=True)
        for m in result.masks
        if m.category == P
    ]
    assert ("M.", "Martin") in names
    assert ("Mme", "Dupont") in names
    false_positives = [n for n in names if n not in {("M.", "Martin"), ("Mme", "Dupont")}]
    assert len(false_positives) <= 1, false_positives


@pytest.mark.parametrize(
    "phone",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0612345678",
        "01 23 45 67 89",
        "+33612345678",
        "0033 6 12 34 56 78",
        "06/45/12/78/90",
        "+212 6 61 23 45 67",
    ],
)
def test_phones(pseudonymiser: Pseudonymiser, phone: str) -> None:
    assert found(pseudonymiser, f"Joignable au {phone}, le soir.") == [(phone, T)]


@pytest.mark.parametrize(
    "email",
    ["fatou.diallo93@gmail.com", "s.mercier@ccas-villeurbanne.fr", "karim_benali@yahoo.fr", "JEAN.DUPONT@GMAIL.COM"],
)
def test_emails(pseudonymiser: Pseudonymiser, email: str) -> None:
    assert found(pseudonymiser, f"Son adresse : {email}.") == [(email, E)]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Son NIR 1 85 03 75 123 456 78 est faux.", "1 85 03 75 123 456 78"),
        ("NIR : 185037512345678.", "185037512345678"),
        ("Numéro de sécu 2 90 12 2A 004 017 33 sur la carte.", "2 90 12 2A 004 017 33"),
        ("Sans la clé : 1850375123456.", "1850375123456"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189 à transmettre.", "FR76 3000 6000 0112 3456 7890 189"),
        ("RIB : FR7630006000011234567890189.", "FR7630006000011234567890189"),
        ("IBAN FR14 2004 1010 0505 0001 3M02 606 invalide.", "FR14 2004 1010 0505 0001 3M02 606"),
        ("N° allocataire 1234567, dossier bloqué.", "1234567"),
        ("Numéro CAF : 7654321.", "7654321"),
        ("Son numéro d'allocataire c'est le 0987654.", "0987654"),
        ("Identifiant France Travail 1234567A à réinscrire.", "1234567A"),
    ],
)
def test_numbers(pseudonymiser: Pseudonymiser, text: str, number: str) -> None:
    assert found(pseudonymiser, text) == [(number, N)]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Elle habite 12 rue des Lilas, 75019 Paris, sans Internet.", "12 rue des Lilas, 75019 Paris"),
        ("Il vit au 3 bis avenue Jean Jaurès depuis 2010.", "3 bis avenue Jean Jaurès"),
        ("Nouvelle adresse : 45 bd Voltaire.", "45 bd Voltaire"),
        ("Au 7 chemin des Vignes, pas de réseau.", "7 chemin des Vignes"),
        ("Visite au 2 impasse du Moulin.", "2 impasse du Moulin"),
        ("Adresse : 14, rue du 8 Mai 1945.", "14, rue du 8 Mai 1945"),
        ("Elle loge 5 place de la République, 69001 Lyon.", "5 place de la République, 69001 Lyon"),
        ("Courrier au 3 rue victor hugo.", "3 rue victor hugo"),
    ],
)
def test_addresses(pseudonymiser: Pseudonymiser, text: str, address: str) -> None:
    assert found(pseudonymiser, text) == [(address, A)]


def test_urls_with_identifiers_are_masked_but_not_site_names(pseudonymiser: Pseudonymiser) -> None:
    text = (
        "Voir https://www.caf.fr/allocataires?id=123 et facebook.com/jean.dupont75, "
        "mais ameli.fr, www.service-public.fr et https://www.caf.fr restent."
    )
    assert found(pseudonymiser, text) == [
        ("https://www.caf.fr/allocataires?id=123", U),
        ("facebook.com/jean.dupont75", U),
    ]


def test_birth_dates_but_not_dates_of_events(pseudonymiser: Pseudonymiser) -> None:
    text = (
        "Née le 12/03/1985, il est né en 1990, date de naissance : 3 mars 1978, né à Bamako le 05/06/1994. "
        "Rendez-vous le 12 mars à 14h30, 150 €, 3 rendez-vous en 2023 ; le dispositif est né en 2019."
    )
    assert found(pseudonymiser, text) == [
        ("12/03/1985", D),
        ("1990", D),
        ("3 mars 1978", D),
        ("05/06/1994", D),
    ]


def test_amounts_dates_times_and_counts_are_kept(pseudonymiser: Pseudonymiser) -> None:
    text = (
        "Le 12 mars, 3 rendez-vous, 150 euros, 1 234 567 €, à 14h30, en 2022, le 06/12/2023, le 3949, le 115, "
        "3 cours de français, 42 demandes, 40 % du temps."
    )
    assert found(pseudonymiser, text) == []


# --- never masked ----------------------------------------------------------------------------------------------


def test_never_mask_terms_are_kept(pseudonymiser: Pseudonymiser) -> None:
    text = (
        "La CAF, la CPAM, la MDPH, le CCAS, le CIAS, France Travail, Pôle emploi, l'ANTS, la préfecture, la Mission "
        "locale, la MSA, la CARSAT, l'URSSAF, l'ASE, la PMI, le Département, le conseil départemental, France "
        "Services, Emmaüs, la Croix-Rouge, les Restos du cœur, le Secours populaire. France Connect, FranceConnect, "
        "Ameli, Doctolib, Teams, Zoom, Outlook, WhatsApp, Google, Excel, Word, Solis, IODAS. Assistante sociale, "
        "éducatrice, CESF, conseillère en insertion professionnelle. Lyon, Marseille, Saint-Denis, Bretagne."
    )
    assert found(pseudonymiser, text) == []
    for sentence in ("Avec Teams et Zoom on perd du temps.", "Pôle emploi aussi.", "Madame la directrice a validé."):
        assert found(pseudonymiser, sentence) == []


def test_never_mask_lists_are_sane() -> None:
    names = builtin_first_names()
    assert len(names) >= 300
    terms = {fold(t) for t in builtin_never_mask()}
    assert {"caf", "france travail", "teams", "solis", "assistante sociale", "lyon"} <= terms
    assert not names & terms, "a first name must not be a never-mask term"
    text = "La CAF et la caf, la Préfecture, cafés"
    assert [text[s:e] for s, e in never_mask_spans(text)] == ["CAF", "caf", "Préfecture"]


# --- configuration -----------------------------------------------------------------------------------------------


def test_categories_subset_leaves_the_others_and_skips_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the NER model must not load when person names are not masked")

    monkeypatch.setattr(spacy_pipeline, "load_pipeline", no_model)
    p = Pseudonymiser(PseudonymiserConfig(categories=frozenset({E, T})))
    result = p.mask("Mme Kowalski (kowalski@free.fr, 06 12 34 56 78) habite 12 rue des Lilas, Kofi aussi.")
    assert result.text == "Mme Kowalski ([EMAIL], [TÉLÉPHONE]) habite 12 rue des Lilas, Kofi aussi."
    assert result.counts == {"EMAIL": 1, "TÉLÉPHONE": 1}


def test_extra_names_and_never_mask(pseudonymiser: Pseudonymiser) -> None:
    text = "Karim et zorglub ont vu Mme Vasquez-Lenoir."
    assert found(pseudonymiser, text) == [("Karim", P), ("Vasquez-Lenoir", P)]
    p = Pseudonymiser(PseudonymiserConfig(extra_names=("Zorglub", "Vasquez Lenoir"), never_mask=("Karim",)))
    assert found(p, text) == [("zorglub", P), ("Vasquez-Lenoir", P)]
    assert found(p, "Le collectif ZORGLUB et Vasquez  Lenoir.") == [("ZORGLUB", P), ("Vasquez  Lenoir", P)]


def test_config_is_validated() -> None:
    with pytest.raises(ValidationError):
        PseudonymiserConfig(unknown=True)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        PseudonymiserConfig(extra_names=("Dupont", "  "))
    config = PseudonymiserConfig(categories=frozenset({"EMAIL"}))  # type: ignore[arg-type]
    assert config.categories == frozenset({E})
    with pytest.raises(ValidationError):
        config.never_mask = ("x",)
    with pytest.raises(ConfigError, match="no 'ner' component"):
        Pseudonymiser(nlp=spacy.blank("fr"))


# --- offsets, counts, batches, determinism ------------------------------------------------------------------


def test_masks_point_into_the_original_text_and_counts_add_up(pseudonymiser: Pseudonymiser) -> None:
    text = "Mme Rose (rose.martin75@free.fr, 06 33 21 45 87) et Fatou Diallo ; NIR 185037512345678."
    result = pseudonymiser.mask(text)
    assert [(text[m.start : m.end], m.category) for m in result.masks] == [
        ("Rose", P),
        ("rose.martin75@free.fr", E),
        ("06 33 21 45 87", T),
        ("Fatou Diallo", P),
        ("185037512345678", N),
    ]
    assert all(isinstance(m, Mask) for m in result.masks)
    assert result.text == "Mme [PERSONNE] ([EMAIL], [TÉLÉPHONE]) et [PERSONNE] ; NIR [NUMÉRO]."
    assert result.counts == {
        "PERSONNE": 2,
        "EMAIL": 1,
        "TÉLÉPHONE": 1,
        "ADRESSE": 0,
        "NUMÉRO": 1,
        "URL": 0,
        "DATE DE NAISSANCE": 0,
    }
    # rebuilding the masked text from the original and the masks gives the same text
    rebuilt, position = [], 0
    for m in result.masks:
        rebuilt += [text[position : m.start], f"[{m.category.value}]"]
        position = m.end
    assert "".join([*rebuilt, text[position:]]) == result.text
    assert pseudonymiser.mask("").text == ""


def test_mask_many_equals_mask_and_is_deterministic(pseudonymiser: Pseudonymiser) -> None:
    texts = [text for text, _ in load_gold()]
    batch = pseudonymiser.mask_many(texts, batch_size=16)
    assert batch == [pseudonymiser.mask(text) for text in texts]
    assert Pseudonymiser().mask_many(texts) == batch


class _CountingPseudonymiser(Pseudonymiser):
    """The real pseudonymiser, counting the texts it masks (and failing after ``fail_after`` of them)."""

    def __init__(self, config: PseudonymiserConfig | None = None, fail_after: int | None = None) -> None:
        super().__init__(config)
        self.masked_texts = 0
        self.fail_after = fail_after

    def mask_many(self, texts: Sequence[str], batch_size: int = 256) -> list[MaskedText]:
        if self.fail_after is not None and self.masked_texts + len(texts) > self.fail_after:
            raise RuntimeError("killed")
        self.masked_texts += len(texts)
        return super().mask_many(texts, batch_size)


def test_a_re_run_masks_nothing_and_the_cache_holds_no_text(pseudonymiser: Pseudonymiser, tmp_path: Path) -> None:
    texts = [text for text, spans in load_gold() if spans][:60] + [text for text, spans in load_gold() if not spans][
        :60
    ]
    texts += texts[:30]  # repeated answers are masked once
    path = tmp_path / "masks.sqlite"
    first = _CountingPseudonymiser()
    results = first.mask_cached(texts, MaskCache(path), write_every=50)
    assert results == pseudonymiser.mask_many(texts)
    assert first.masked_texts == len(set(texts)) == 120
    again = _CountingPseudonymiser()
    assert again.mask_cached(texts, MaskCache(path)) == results
    assert again.masked_texts == 0
    # neither the texts nor what their masks cover are in the file: offsets and categories only
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    covered = {text[m.start : m.end] for text, result in zip(texts, results, strict=True) for m in result.masks}
    assert len(covered) > 20
    assert [c for c in covered if len(c) >= 4 and c.encode("utf-8") in data] == []
    assert [t for t in texts if len(t) >= 20 and t[:20].encode("utf-8") in data] == []


def test_masks_cached_under_another_configuration_are_never_read(tmp_path: Path) -> None:
    text = "Karim a appelé Mme Vasquez au 06 12 34 56 78."
    cache = MaskCache(tmp_path / "masks.sqlite")
    assert (
        _CountingPseudonymiser().mask_cached([text], cache)[0].text
        == "[PERSONNE] a appelé Mme [PERSONNE] au [TÉLÉPHONE]."
    )
    phones_only = _CountingPseudonymiser(PseudonymiserConfig(categories=frozenset({T})))
    assert phones_only.mask_cached([text], cache)[0].text == "Karim a appelé Mme Vasquez au [TÉLÉPHONE]."
    assert phones_only.masked_texts == 1
    kept = _CountingPseudonymiser(PseudonymiserConfig(never_mask=("Karim",)))
    assert kept.mask_cached([text], cache)[0].text == "Karim a appelé Mme [PERSONNE] au [TÉLÉPHONE]."
    assert kept.masked_texts == 1
    # the same configuration reads the cache, whatever the order of its categories or the process's string hashing
    script = "from verbatim.nlp.pseudonymise import Pseudonymiser as P; print(P().cache_namespace)"
    namespaces = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert namespaces == {Pseudonymiser().cache_namespace}
    same = _CountingPseudonymiser(PseudonymiserConfig(categories=frozenset(reversed(list(MaskCategory)))))
    assert same.cache_namespace == Pseudonymiser().cache_namespace
    assert same.mask_cached([text], cache)[0].counts["PERSONNE"] == 2
    assert same.masked_texts == 0


def test_a_run_killed_while_masking_keeps_the_batches_it_wrote(tmp_path: Path) -> None:
    texts = [text for text, _ in load_gold()][:130]
    path = tmp_path / "masks.sqlite"
    with pytest.raises(RuntimeError, match="killed"):
        _CountingPseudonymiser(fail_after=110).mask_cached(texts, MaskCache(path), write_every=50)
    resumed = _CountingPseudonymiser()
    assert resumed.mask_cached(texts, MaskCache(path)) == Pseudonymiser().mask_many(texts)
    assert resumed.masked_texts == 130 - 100, "the two whole batches written before the crash are reused"


def test_skipping_the_ner_changes_nothing(pseudonymiser: Pseudonymiser) -> None:
    """Where no word could be a name the rules have not found, running the NER anyway gives the same masks."""
    nlp = spacy_pipeline.load_pipeline("ner")
    works = [pseudonymiser._prepare(text) for text, _ in load_gold()]
    skipped = [work for work in works if not work.needs_ner]
    assert len(skipped) > 300
    for work, doc in zip(skipped, nlp.pipe(work.text for work in skipped), strict=True):
        assert pseudonymiser._finish(work, doc) == pseudonymiser._finish(work, None), work.text


# --- the gold set --------------------------------------------------------------------------------------------------


def test_gold_set_goals(pseudonymiser: Pseudonymiser) -> None:
    records = load_gold()
    assert len(records) >= 320
    results = pseudonymiser.mask_many([text for text, _ in records])
    gold_counts: Counter[str] = Counter()
    predicted_counts: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    wrongly_masked = []
    for (text, gold), result in zip(records, results, strict=True):
        predicted = {(m.start, m.end, m.category.value) for m in result.masks}
        gold_counts.update(c for _, _, c in gold)
        predicted_counts.update(c for _, _, c in predicted)
        hits.update(c for _, _, c in predicted & set(gold))
        for start, end in never_mask_spans(text):
            inside_gold = any(s <= start and end <= e for s, e, _ in gold)
            if not inside_gold and any(m.start < end and start < m.end for m in result.masks):
                wrongly_masked.append((text[start:end], text))
    for category in ("EMAIL", "TÉLÉPHONE", "NUMÉRO"):
        assert gold_counts[category] >= 5
        assert hits[category] == gold_counts[category], f"recall of {category} below 1.00"
    recall = hits["PERSONNE"] / gold_counts["PERSONNE"]
    precision = hits["PERSONNE"] / predicted_counts["PERSONNE"]
    assert recall >= 0.95, f"PERSONNE recall {recall:.3f}"
    assert precision >= 0.90, f"PERSONNE precision {precision:.3f}"
    assert wrongly_masked == []
