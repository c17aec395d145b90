"""Benchmark the pseudonymiser on the labelled gold set: quality per category, never-mask errors, throughput.

Run ``python bench/pseudonymisation.py`` from the repository root. It prints, for the whole gold set and for its
held-out part (``"split": "held_out"``, the end of the file, written after the rules were frozen), precision, recall,
F1 and support
per category, with exact span matching and with overlap matching (a prediction overlapping a gold span of the same
category counts, one to one); then the built-in never-mask terms masked outside any gold span (must be 0), and the
throughput of ``mask_many`` (texts per second, the spaCy model already loaded); last, every PERSONNE mask on the
answers of the sample survey (``data/sample_survey.csv``), with its context: all but "M. Martin" and "Mme Dupont"
are false positives.

Goals: recall 1.00 on EMAIL, TÉLÉPHONE and NUMÉRO; recall >= 0.95 and precision >= 0.90 on PERSONNE; at most one
false PERSONNE mask on the sample survey.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from verbatim.nlp.pseudonymise import MaskCategory, Pseudonymiser, never_mask_spans  # noqa: E402

GOLD = ROOT / "tests" / "data" / "pseudonymisation_gold.jsonl"
SAMPLE_SURVEY = ROOT / "data" / "sample_survey.csv"
Span = tuple[int, int, str]


@dataclass
class Score:
    predicted: int = 0
    gold: int = 0
    exact: int = 0
    overlap_predicted: int = 0  # predictions matched by overlap
    overlap_gold: int = 0  # gold spans matched by overlap

    @staticmethod
    def _ratio(num: int, den: int) -> float:
        return num / den if den else 1.0

    def precision(self, exact: bool) -> float:
        return self._ratio(self.exact if exact else self.overlap_predicted, self.predicted)

    def recall(self, exact: bool) -> float:
        return self._ratio(self.exact if exact else self.overlap_gold, self.gold)

    def f1(self, exact: bool) -> float:
        p, r = self.precision(exact), self.recall(exact)
        return 2 * p * r / (p + r) if p + r else 0.0


def load_gold(path: Path = GOLD) -> list[tuple[str, list[Span], bool]]:
    """(text, spans, held out?) for each line of the gold set."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            spans = [(s, e, c) for s, e, c in obj["spans"]]
            records.append((obj["text"], spans, obj.get("split") == "held_out"))
    return records


def score(gold: list[list[Span]], predicted: list[list[Span]]) -> dict[str, Score]:
    """Scores per category (and ``ALL``), exact and overlap matching."""
    scores = {c.value: Score() for c in MaskCategory}
    scores["ALL"] = Score()
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        for category in [c.value for c in MaskCategory]:
            g = [s for s in gold_spans if s[2] == category]
            p = [s for s in pred_spans if s[2] == category]
            exact = len(set(g) & set(p))
            used: set[int] = set()
            matched_gold = 0
            for gs, ge, _ in g:
                for i, (ps, pe, _) in enumerate(p):
                    if i not in used and ps < ge and gs < pe:
                        used.add(i)
                        matched_gold += 1
                        break
            for key in (category, "ALL"):
                sc = scores[key]
                sc.predicted += len(p)
                sc.gold += len(g)
                sc.exact += exact
                sc.overlap_gold += matched_gold
                sc.overlap_predicted += len(used)
    return scores


def never_mask_errors(texts: list[str], gold: list[list[Span]], predicted: list[list[Span]]) -> list[str]:
    """Built-in never-mask terms that a prediction overlaps, outside every gold span."""
    errors = []
    for text, gold_spans, pred_spans in zip(texts, gold, predicted, strict=True):
        for start, end in never_mask_spans(text):
            if any(gs <= start and end <= ge for gs, ge, _ in gold_spans):
                continue  # e.g. a city inside an address, a domain inside an e-mail
            if any(ps < end and start < pe for ps, pe, _ in pred_spans):
                errors.append(f"{text[start:end]!r} in: {text}")
    return errors


def format_table(title: str, scores: dict[str, Score]) -> str:
    lines = [
        title,
        f"{'category':<18} {'support':>7} {'pred':>5} | {'P exact':>7} {'R exact':>7} {'F1 exact':>8} | "
        f"{'P ovl':>6} {'R ovl':>6} {'F1 ovl':>6}",
        "-" * 88,
    ]
    for name, sc in scores.items():
        if sc.gold == 0 and sc.predicted == 0:
            continue
        lines.append(
            f"{name:<18} {sc.gold:>7} {sc.predicted:>5} | {sc.precision(True):>7.2f} {sc.recall(True):>7.2f} "
            f"{sc.f1(True):>8.2f} | {sc.precision(False):>6.2f} {sc.recall(False):>6.2f} {sc.f1(False):>6.2f}"
        )
    return "\n".join(lines)


def errors_listing(texts: list[str], gold: list[list[Span]], predicted: list[list[Span]]) -> list[str]:
    out = []
    for text, g, p in zip(texts, gold, predicted, strict=True):
        missed = sorted(set(g) - set(p))
        extra = sorted(set(p) - set(g))
        if missed or extra:
            out.append(text)
            out.extend(f"    missed {text[s:e]!r} {c}" for s, e, c in missed)
            out.extend(f"    extra  {text[s:e]!r} {c}" for s, e, c in extra)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every sentence with a missed or extra span")
    parser.add_argument("--repeat", type=int, default=20, help="copies of the gold texts timed for throughput")
    args = parser.parse_args()

    records = load_gold()
    texts = [t for t, _, _ in records]
    gold = [g for _, g, _ in records]
    held = [i for i, (_, _, held_out) in enumerate(records) if held_out]
    pseudonymiser = Pseudonymiser()
    started = time.perf_counter()
    results = pseudonymiser.mask_many(texts)
    first_run = time.perf_counter() - started
    predicted = [[(m.start, m.end, m.category.value) for m in r.masks] for r in results]

    print(f"gold set: {GOLD.relative_to(ROOT)}, {len(records)} sentences, {len(held)} held out")
    print()
    print(format_table("ALL SENTENCES", score(gold, predicted)))
    print()
    held_scores = score([gold[i] for i in held], [predicted[i] for i in held])
    print(format_table(f"HELD OUT ({len(held)} sentences written after the rules were frozen)", held_scores))
    print()
    errors = never_mask_errors(texts, gold, predicted)
    print(f"never-mask terms wrongly masked: {len(errors)}")
    for error in errors:
        print(f"    {error}")

    many = texts * args.repeat
    started = time.perf_counter()
    pseudonymiser.mask_many(many)
    elapsed = time.perf_counter() - started
    needs_ner = sum(pseudonymiser._prepare(t).needs_ner for t in texts)
    print()
    print(
        f"throughput: {len(many) / elapsed:,.0f} texts/s ({len(many)} texts in {elapsed:.2f} s, model loaded; "
        f"first run with model loading: {first_run:.2f} s); NER needed on {needs_ner}/{len(texts)} texts"
    )
    if args.errors:
        print()
        print("\n".join(errors_listing(texts, gold, predicted)))
    if SAMPLE_SURVEY.exists():
        with SAMPLE_SURVEY.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter=";"))
        answers = [row[c] for row in rows for c in ("difficultes", "idees") if row.get(c) and row[c].strip()]
        persons = [
            (text, m.start, m.end)
            for text, result in zip(answers, pseudonymiser.mask_many(answers), strict=True)
            for m in result.masks
            if m.category == MaskCategory.PERSONNE
        ]
        print()
        print(f"sample survey: {len(answers)} answers, {len(persons)} PERSONNE masks")
        for text, start, end in persons:
            print(f"    {text[start:end]!r:<16} in {text[max(0, start - 30) : end + 30]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
