"""BERTopic is imported without Hugging Face's transformers, spaCy and BERTopic without torch, and
sentence-transformers (with torch) still imports afterwards.

Each check runs in a fresh interpreter: pytest's own process may have imported either package already.
"""

from __future__ import annotations

import json
import subprocess
import sys


def _probe(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_theme_fit_imports_neither_transformers_nor_sentence_transformers() -> None:
    """spaCy's French pipelines (lemmas, names), then a real fit (BERTopic with its c-TF-IDF, UMAP, HDBSCAN) on 120
    excerpts of three topics: lemmas, names and themes come out, and none of torch, transformers and
    sentence-transformers was imported for them; an ``st:`` encoder's package then imports as usual, torch with
    it."""
    code = """
import json, sys
import numpy as np
from verbatim.nlp.spacy_pipeline import load_pipeline
from verbatim.nlp.themes import ThemeModel
lemmas_seen = [t.lemma_ for t in load_pipeline("analyse")("Les assistantes sociales travaillaient.")]
names_seen = [e.text for e in load_pipeline("ner")("Marie Dupont habite à Lyon.").ents]
rng = np.random.default_rng(0)
topics = [["ordinateur", "panne", "logiciel"], ["formation", "apprendre", "outil"], ["usager", "accueil", "rdv"]]
centres = rng.normal(size=(3, 32))
vectors = np.vstack([centres[i % 3] + 0.05 * rng.normal(size=32) for i in range(120)]).astype(np.float32)
lemmas = [topics[i % 3] for i in range(120)]
texts = [" ".join(words) for words in lemmas]
model = ThemeModel(seed=0, consensus_runs=1).fit(vectors, lemmas, lemmas, texts, [f"R{i}" for i in range(120)])
after_fit = sorted(m for m in ("transformers", "sentence_transformers", "torch") if m in sys.modules)
from verbatim.nlp.heavy_imports import import_sentence_transformers
loaded = hasattr(import_sentence_transformers(), "SentenceTransformer")
print(json.dumps({"themes": len(model.themes_), "after_fit": after_fit, "bertopic": "bertopic" in sys.modules,
                  "sentence_transformers": loaded, "torch": hasattr(sys.modules.get("torch"), "Tensor"),
                  "lemmas": lemmas_seen, "names": names_seen}))
"""
    seen = _probe(code)
    assert seen["bertopic"] is True
    assert int(str(seen["themes"])) >= 2
    assert seen["after_fit"] == []
    assert seen["lemmas"] == ["le", "assistant", "social", "travailler", "."]
    assert seen["names"] == ["Marie Dupont", "Lyon"]
    assert seen["sentence_transformers"] is True and seen["torch"] is True


def test_bertopic_imported_after_sentence_transformers_keeps_it() -> None:
    """When an ``st:`` encoder already loaded sentence-transformers, BERTopic is imported with it (nothing hidden),
    and its multimodal backend is the real one."""
    code = """
import json, sys
from verbatim.nlp.heavy_imports import import_bertopic, import_sentence_transformers
st = import_sentence_transformers()
import_bertopic()
from bertopic.backend import MultiModalBackend
print(json.dumps({"same": sys.modules["sentence_transformers"] is st, "real": isinstance(MultiModalBackend, type)}))
"""
    assert _probe(code) == {"same": True, "real": True}
