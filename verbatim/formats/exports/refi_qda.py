"""REFI-QDA projects (``.qdpx``) for NVivo, ATLAS.ti, MAXQDA and QualCoder: writer and reader.

A ``.qdpx`` is a zip holding ``project.qde`` (namespace ``urn:QDA-XML:project:1.0``, valid against
``Project-mrt2019.xsd``) and a lowercase ``sources/`` folder with one ``<guid>.txt`` per text source, referenced as
``plainTextPath="internal://<guid>.txt"``.

What we write:

* **Users**: the machine (``Verbatim (machine)``) and every researcher whose decision is exported, each a ``User``.
* **Codebook**: one non-codable code per question, under it one codable code per active theme (current label,
  colour ``#RRGGBB``, description with key lemmas and lineage). Merged-away themes are gone: their excerpts are
  coded to the theme they became.
* **Variables and cases**: each respondent attribute is a text ``Variable``; each respondent is a ``Case`` with its
  ``VariableValue``\\s and (one source per respondent) a ``SourceRef`` to each of its answers. Clients that read
  attributes from the sources instead (QualCoder, which follows ``SourceRef`` only in unnamed cases; MAXQDA's
  document variables) find them there too: each attribute has a second text ``Variable``, ``profession (document)``,
  whose values are ``VariableValue`` children of each respondent's ``TextSource`` (a second variable because a
  client may keep one name for one kind: QualCoder's case and file attributes share a namespace).
* **Sources**, ``sources=respondent`` (the default): one ``TextSource`` per analysed answer, named
  ``R0042 – difficultes``. ``sources=question``: one ``TextSource`` per question, named after it, holding every
  exported answer as a paragraph headed by its respondent id (``R0042`` on a line, the answer, a blank line before
  the next), for NVivo and MAXQDA users who want a few documents rather than thousands; the cases then carry the
  attributes without ``SourceRef`` (a reference names a whole document, not a paragraph). The text is the
  pseudonymised answer with ``\\n`` line endings, in Unicode NFC, written as UTF-8 without BOM.
* **Selections**: one ``PlainTextSelection`` per excerpt, positions in characters of the source text exactly as
  written, end excluded: ``text[startPosition:endPosition]`` is the excerpt (the excerpt's offsets into the stored
  answer are mapped through the line-ending and NFC normalisation, then shifted by the paragraph's start in a
  question's source). A character is a Unicode code point (an emoji is one, not two UTF-16 units): the standard
  counts characters of the UTF-8 source text, and QualCoder's importer slices the text with these numbers as they
  are (``fulltext[startPosition:endPosition]`` in Python). Each selection holds a
  ``Coding`` by the machine user to the machine's theme (when the machine gave one) and, for excerpts accepted or
  recoded by a researcher, a ``Coding`` by that researcher to the current theme. Rejected excerpts keep only the
  machine's coding (the researcher's "no theme" has no code to point to); queued excerpts with no theme are left
  out. With ``validated_only``, only accepted and recoded excerpts are exported.

GUIDs are UUID 5 of the run id and the object, dates are those of the run and of the decisions, zip entries are
sorted with a fixed timestamp: the same store gives the same ``.qdpx``, byte for byte.
"""

from __future__ import annotations

import itertools
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath

from lxml import etree

from verbatim.errors import VerbatimError
from verbatim.formats.exports.cells import write_atomically, xml_text
from verbatim.formats.exports.codebook import code_elements, guid, theme_guid
from verbatim.formats.exports.data import ExcerptView, QuestionView, RunView
from verbatim.models.review import QUEUE, ReviewStatus

PROJECT_NS = "urn:QDA-XML:project:1.0"
MACHINE_USER = "Verbatim (machine)"
#: The name of the second variable of an attribute, whose values sit on the text sources.
DOCUMENT_VARIABLE = "{} (document)"


class QdpxSources(StrEnum):
    """How the answers become text sources: one per respondent and question, or one per question."""

    RESPONDENT = "respondent"
    QUESTION = "question"


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _q(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


def _when(moment: datetime | None) -> str:
    moment = moment or datetime(2000, 1, 1, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _normalise_piece(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def source_text(answer: str, spans: list[tuple[int, int]]) -> tuple[str, dict[int, int]]:
    """The answer as written to its source file (``\\n`` line ends, NFC) and where each span boundary lands in it.

    The text is normalised piece by piece between boundaries, so each excerpt maps to exactly its own normalised
    text: ``written[m[start]:m[end]] == normalise(answer[start:end])``."""
    cuts = sorted({0, len(answer), *(b for span in spans for b in span)})
    mapping = {0: 0}
    pieces = []
    position = 0
    for a, b in itertools.pairwise(cuts):
        piece = _normalise_piece(answer[a:b])
        pieces.append(piece)
        position += len(piece)
        mapping[b] = position
    return "".join(pieces), mapping


@dataclass
class _Users:
    run_id: str
    guids: dict[str, str] = field(default_factory=dict)

    def __call__(self, name: str) -> str:
        if name not in self.guids:
            self.guids[name] = guid(self.run_id, "user", name)
        return self.guids[name]


def _codings(run: RunView, q: QuestionView, e: ExcerptView, users: _Users) -> list[tuple[str, int, datetime | None]]:
    """(user name, theme id, when) of each coding of the excerpt."""
    out: list[tuple[str, int, datetime | None]] = []
    active = {t.theme_id for t in q.active_themes()}
    if e.machine_theme_id != QUEUE and e.machine_theme_id in active:
        out.append((MACHINE_USER, e.machine_theme_id, run.created_at))
    if e.code.status in (ReviewStatus.ACCEPTED, ReviewStatus.RECODED) and e.code.theme_id in active:
        out.append((e.code.decided_by or "researcher", e.code.theme_id, e.code.decided_at))
    return out


_Coded = list[tuple[ExcerptView, list[tuple[str, int, datetime | None]]]]


@dataclass(frozen=True)
class _Answer:
    """One answer as it goes into a source: its text as written, where the excerpts' offsets land in it, and the
    excerpts to write as selections with their codings."""

    respondent_id: str
    text: str
    mapping: dict[int, int]
    coded: _Coded


def _answers(run: RunView, q: QuestionView, users: _Users, validated_only: bool) -> list[_Answer]:
    """The answers of ``q`` that go into the project, in the question's order."""
    by_respondent: dict[str, list[ExcerptView]] = {}
    for e in q.excerpts:
        if validated_only and not e.validated:
            continue
        by_respondent.setdefault(e.respondent_id, []).append(e)
    out = []
    for respondent_id, answer in q.answers.items():
        excerpts = by_respondent.get(respondent_id, [])
        coded = [(e, _codings(run, q, e, users)) for e in excerpts]
        coded = [(e, c) for e, c in coded if c]
        if not coded and (validated_only or q.statuses.get(respondent_id) == "rejected" or not answer.strip()):
            continue
        text, mapping = source_text(answer, [(e.start, e.end) for e in excerpts])
        out.append(_Answer(respondent_id, text, mapping, coded))
    return out


def _text_source(parent: etree._Element, source_guid: str, name: str, user: str, created: str) -> etree._Element:
    return etree.SubElement(
        parent, _q("TextSource"), guid=source_guid, name=xml_text(name), plainTextPath=f"internal://{source_guid}.txt",
        creatingUser=user, creationDateTime=created,
    )  # fmt: skip


def _selections(
    source: etree._Element, run: RunView, q: QuestionView, answer: _Answer, shift: int, users: _Users, created: str
) -> None:
    """A ``PlainTextSelection`` per coded excerpt of ``answer``, whose text starts at ``shift`` in the source."""
    for e, coded in answer.coded:
        selection = etree.SubElement(
            source, _q("PlainTextSelection"), guid=guid(run.run_id, "selection", e.excerpt_id),
            name=xml_text(e.excerpt_id), startPosition=str(shift + answer.mapping[e.start]),
            endPosition=str(shift + answer.mapping[e.end]), creatingUser=users(MACHINE_USER), creationDateTime=created,
        )  # fmt: skip
        for user, theme_id, when in coded:
            coding = etree.SubElement(
                selection, _q("Coding"), guid=guid(run.run_id, "coding", e.excerpt_id, user),
                creatingUser=users(user), creationDateTime=_when(when),
            )  # fmt: skip
            etree.SubElement(coding, _q("CodeRef"), targetGUID=theme_guid(run.run_id, q.question, theme_id))


def _variable_values(parent: etree._Element, values: dict[str, str], guids: dict[str, str]) -> None:
    for name, value in values.items():
        vv = etree.SubElement(parent, _q("VariableValue"))
        etree.SubElement(vv, _q("VariableRef"), targetGUID=guids[name])
        etree.SubElement(vv, _q("TextValue")).text = xml_text(value)


#: What separates two answers in a question's source, and what ends a paragraph's heading.
PARAGRAPH_BREAK = "\n\n"


def question_text(answers: list[_Answer]) -> tuple[str, list[int]]:
    """A question's source text (each answer a paragraph headed by its respondent id) and where each answer's own
    text starts in it."""
    pieces: list[str] = []
    starts = []
    position = 0
    for i, answer in enumerate(answers):
        heading = (PARAGRAPH_BREAK if i else "") + _normalise_piece(answer.respondent_id) + "\n"
        starts.append(position + len(heading))
        pieces += [heading, answer.text]
        position += len(heading) + len(answer.text)
    return "".join(pieces), starts


def project_xml(
    run: RunView, validated_only: bool = False, sources: QdpxSources | str = QdpxSources.RESPONDENT
) -> tuple[bytes, dict[str, str]]:
    """``project.qde`` and the source files (``sources/<guid>.txt`` -> text) of the run."""
    per_question = QdpxSources(sources) == QdpxSources.QUESTION
    users = _Users(run.run_id)
    machine = users(MACHINE_USER)
    created = _when(run.created_at)
    variable_guids = {a: guid(run.run_id, "variable", a) for a in run.attributes}
    document_guids = {} if per_question else {a: guid(run.run_id, "document-variable", a) for a in run.attributes}
    sources_el = etree.Element(_q("Sources"))
    files: dict[str, str] = {}
    answers_of: dict[str, list[str]] = {}  # respondent -> the sources of its answers (none: in a question's source)
    for q in run.questions:
        answers = _answers(run, q, users, validated_only)
        if per_question and answers:
            source_guid = guid(run.run_id, "question-source", q.question)
            files[f"sources/{source_guid}.txt"], starts = question_text(answers)
            source = _text_source(sources_el, source_guid, q.question, machine, created)
            for answer, start in zip(answers, starts, strict=True):
                answers_of.setdefault(answer.respondent_id, [])
                _selections(source, run, q, answer, start, users, created)
            continue
        for answer in answers:
            source_guid = guid(run.run_id, "source", q.question, answer.respondent_id)
            files[f"sources/{source_guid}.txt"] = answer.text
            answers_of.setdefault(answer.respondent_id, []).append(source_guid)
            source = _text_source(sources_el, source_guid, f"{answer.respondent_id} – {q.question}", machine, created)
            _selections(source, run, q, answer, 0, users, created)
            _variable_values(source, run.respondents.get(answer.respondent_id, {}), document_guids)

    root = etree.Element(
        _q("Project"), nsmap={None: PROJECT_NS}, name=xml_text(f"Verbatim {run.run_id}"), origin="Verbatim",
        creatingUserGUID=machine, creationDateTime=created,
    )  # fmt: skip
    users_el = etree.SubElement(root, _q("Users"))
    for name, user_guid in users.guids.items():
        etree.SubElement(users_el, _q("User"), guid=user_guid, name=xml_text(name), id=xml_text(name))
    codebook = etree.SubElement(root, _q("CodeBook"))
    codebook.append(code_elements(run, PROJECT_NS))
    if variable_guids:
        variables = etree.SubElement(root, _q("Variables"))
        named = [(n, g) for n, g in variable_guids.items()]
        named += [(DOCUMENT_VARIABLE.format(n), g) for n, g in document_guids.items()]
        for name, variable_guid in named:
            etree.SubElement(variables, _q("Variable"), guid=variable_guid, name=xml_text(name), typeOfVariable="Text")
    cases = [r for r in run.respondents if r in answers_of]
    if cases:
        cases_el = etree.SubElement(root, _q("Cases"))
        for respondent_id in cases:
            case = etree.SubElement(
                cases_el, _q("Case"), guid=guid(run.run_id, "case", respondent_id), name=xml_text(respondent_id)
            )
            _variable_values(case, run.respondents[respondent_id], variable_guids)
            for source_guid in answers_of[respondent_id]:
                etree.SubElement(case, _q("SourceRef"), targetGUID=source_guid)
    if len(sources_el):
        root.append(sources_el)
    etree.SubElement(root, _q("Description")).text = xml_text(
        f"Verbatim, run {run.run_id}: codes of the machine and of the researchers (pseudonymised answers)."
    )
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return bytes(xml), files


def write_qdpx(
    run: RunView, path: Path, validated_only: bool = False, sources: QdpxSources | str = QdpxSources.RESPONDENT
) -> Path:
    xml, files = project_xml(run, validated_only, sources)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in [("project.qde", xml), *((n, t.encode("utf-8")) for n, t in sorted(files.items()))]:
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)

    return write_atomically(path, write)


# -- reading ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QdpxCoding:
    code_guid: str
    code_name: str
    user: str  # the user's name (its guid when the project does not name it)
    created: str | None


@dataclass(frozen=True)
class QdpxSelection:
    guid: str
    name: str
    start: int
    end: int
    text: str  # the source text between start and end
    codings: tuple[QdpxCoding, ...]


@dataclass(frozen=True)
class QdpxSource:
    guid: str
    name: str
    text: str
    selections: tuple[QdpxSelection, ...]
    variables: dict[str, str] = field(default_factory=dict)  # variable name -> value, from the source's own values


@dataclass(frozen=True)
class QdpxCode:
    guid: str
    name: str
    codable: bool
    color: str | None
    description: str
    parent: str | None


@dataclass(frozen=True)
class QdpxCase:
    guid: str
    name: str
    variables: dict[str, str]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class QdpxProject:
    name: str
    users: dict[str, str]  # guid -> name
    codes: dict[str, QdpxCode]
    variables: dict[str, str]  # guid -> name
    cases: tuple[QdpxCase, ...]
    sources: tuple[QdpxSource, ...]
    xml: bytes = b""

    def codings(self) -> list[tuple[str, str, int, int, str, str, str]]:
        """Every coding as (source name, selection name, start, end, selected text, code name, user name)."""
        return [
            (s.name, sel.name, sel.start, sel.end, sel.text, c.code_name, c.user)
            for s in self.sources
            for sel in s.selections
            for c in sel.codings
        ]


class QdpxError(VerbatimError):
    """A ``.qdpx`` file that cannot be read."""


def _codes(element: etree._Element, parent: str | None, out: dict[str, QdpxCode]) -> None:
    for code in element.findall(_q("Code")):
        description = code.findtext(_q("Description")) or ""
        out[code.get("guid", "")] = QdpxCode(
            code.get("guid", ""), code.get("name", ""), code.get("isCodable") in ("true", "1"), code.get("color"),
            description, parent,
        )  # fmt: skip
        _codes(code, code.get("guid"), out)


def _source_text(zf: zipfile.ZipFile, element: etree._Element) -> str:
    inline = element.findtext(_q("PlainTextContent"))
    if inline is not None:
        return inline
    path = element.get("plainTextPath", "")
    if not path.startswith("internal://"):
        raise QdpxError(f"text source '{element.get('name')}' points outside the project: {path!r}")
    wanted = PurePosixPath(path.removeprefix("internal://")).name
    names = {n.lower(): n for n in zf.namelist()}
    name = names.get(f"sources/{wanted}".lower())
    if name is None:
        raise QdpxError(f"text source '{element.get('name')}': sources/{wanted} is missing from the archive")
    return zf.read(name).decode("utf-8-sig")


def _values(element: etree._Element, variables: dict[str, str]) -> dict[str, str]:
    """The ``VariableValue`` children of a case or a source: variable name (its guid if unknown) -> value."""
    values = {}
    for vv in element.findall(_q("VariableValue")):
        ref = vv.find(_q("VariableRef"))
        target = ref.get("targetGUID", "") if ref is not None else ""
        values[variables.get(target, target)] = next(
            (child.text or "" for child in vv if child.tag != _q("VariableRef")), ""
        )
    return values


def read_qdpx(path: Path | str) -> QdpxProject:
    """Read a ``.qdpx``: users, codes, variables, cases, text sources with their selections, codings and
    variable values."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise QdpxError(f"{path}: not a readable .qdpx (zip) file: {exc}") from exc
    with zf:
        if "project.qde" not in zf.namelist():
            raise QdpxError(f"{path}: no project.qde in the archive")
        xml = zf.read("project.qde")
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        users = {u.get("guid", ""): u.get("name") or u.get("guid", "") for u in root.iter(_q("User"))}
        codes: dict[str, QdpxCode] = {}
        for codes_el in root.findall(f"{_q('CodeBook')}/{_q('Codes')}"):
            _codes(codes_el, None, codes)
        variables = {v.get("guid", ""): v.get("name", "") for v in root.iter(_q("Variable"))}
        cases = []
        for case in root.iter(_q("Case")):
            refs = tuple(r.get("targetGUID", "") for r in case.findall(_q("SourceRef")))
            cases.append(QdpxCase(case.get("guid", ""), case.get("name", ""), _values(case, variables), refs))
        sources = []
        for element in root.iter(_q("TextSource")):
            text = _source_text(zf, element)
            selections = []
            for sel in element.findall(_q("PlainTextSelection")):
                start, end = int(sel.get("startPosition", "0")), int(sel.get("endPosition", "0"))
                codings = tuple(
                    QdpxCoding(
                        ref.get("targetGUID", ""),
                        codes[ref.get("targetGUID", "")].name if ref.get("targetGUID", "") in codes else "",
                        users.get(c.get("creatingUser", ""), c.get("creatingUser", "")),
                        c.get("creationDateTime"),
                    )
                    for c in sel.findall(_q("Coding"))
                    for ref in c.findall(_q("CodeRef"))
                )
                selections.append(
                    QdpxSelection(sel.get("guid", ""), sel.get("name", ""), start, end, text[start:end], codings)
                )
            name, values = element.get("name", ""), _values(element, variables)
            sources.append(QdpxSource(element.get("guid", ""), name, text, tuple(selections), values))
    return QdpxProject(root.get("name", ""), users, codes, variables, tuple(cases), tuple(sources), xml)
