"""Survey ingest: real CSV and XLSX files written to tmp_path, read back with verbatim.formats.survey."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest

from verbatim.errors import ColumnError, ConfigError, InputFileError, SurveyDataError
from verbatim.formats.survey import (
    DEFAULT_PLACEHOLDERS,
    Ingested,
    build_answers,
    is_placeholder,
    read_survey,
    select_columns,
)
from verbatim.models.records import AnswerStatus, RejectReason

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE_COLUMNS = ["id", "profession", "structure", "region", "anciennete", "difficultes", "idees"]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(tmp_path: Path, sheets: dict[str, list[list[object]]], name: str = "survey.xlsx") -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


# ----------------------------------------------------------------------------------------------------------
# Encodings and delimiters


def test_utf8_semicolon_with_multiline_quoted_cells(tmp_path: Path) -> None:
    text = (
        "id;profession;difficultes\r\n"
        '1;enseignante;"Plusieurs difficultés :\r\n- le réseau, souvent lent ;\r\n- pas assez de postes"\r\n'
        '2;infirmier;"Une seule ligne"\r\n'
        '3;"aide; soignante";"Ancien Mac\rfin de ligne CR"\r\n'
    )
    path = write(tmp_path, "survey.csv", text)
    table = read_survey(path)
    assert (table.encoding, table.delimiter, table.sheet) == ("utf-8", ";", None)
    assert table.columns == ["id", "profession", "difficultes"]
    assert table.n_rows == 3
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    cells = table.frame["difficultes"].tolist()
    assert cells[0] == "Plusieurs difficultés :\n- le réseau, souvent lent ;\n- pas assez de postes"
    assert cells[2] == "Ancien Mac\nfin de ligne CR"
    assert table.frame.loc[3, "profession"] == "aide; soignante"
    assert list(table.frame.index) == [1, 2, 3]


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "id,question\n1,Très bien\n2,Réseau\n", encoding="utf-8-sig")
    table = read_survey(path)
    assert table.encoding == "utf-8-sig"
    assert table.columns == ["id", "question"]  # no BOM glued to the first header
    assert table.frame["question"].tolist() == ["Très bien", "Réseau"]


def test_cp1252_with_crlf(tmp_path: Path) -> None:
    text = 'id,question\r\n1,"Café, l’école et l’œuvre"\r\n2,Élève\r\n'
    path = write(tmp_path, "windows.csv", text, encoding="cp1252")
    table = read_survey(path)
    assert (table.encoding, table.delimiter) == ("cp1252", ",")
    assert table.frame["question"].tolist() == ["Café, l’école et l’œuvre", "Élève"]


def test_utf16_with_bom_tab_separated(tmp_path: Path) -> None:
    # Excel's "Unicode text" export
    path = write(tmp_path, "unicode.txt", "id\tquestion\r\n1\tDes idées\r\n2\tŒuvre\r\n", encoding="utf-16")
    table = read_survey(path)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.frame["question"].tolist() == ["Des idées", "Œuvre"]


def test_other_8bit_encoding_falls_back_to_charset_normalizer(tmp_path: Path) -> None:
    text = (
        'id,question\n1,"Le réseau est très lent, les élèves ne peuvent pas travailler."\n'
        "2,\"Manque de matériel à l'école et à l'hôpital\"\n"
    )
    path = write(tmp_path, "dos.csv", text, encoding="cp850")  # DOS French: "é" is byte 0x82, "‚" in cp1252
    table = read_survey(path)
    assert table.encoding not in ("utf-8", "cp1252")
    assert table.frame["question"].tolist()[0] == "Le réseau est très lent, les élèves ne peuvent pas travailler."


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    # Answers full of the other candidates (commas, semicolons) must not fool the detection.
    answers = ["Oui, mais ; pas toujours, hélas", "Non ; trop lent, trop cher, trop loin", "RAS"]
    lines = [delimiter.join(["id", "region", "idees"])]
    for number, answer in enumerate(answers, start=1):
        quoted = f'"{answer}"' if delimiter in answer else answer
        lines.append(delimiter.join([str(number), "Bretagne", quoted]))
    table = read_survey(write(tmp_path, "survey.csv", "\n".join(lines) + "\n"))
    assert table.delimiter == delimiter
    assert table.columns == ["id", "region", "idees"]
    assert table.frame["idees"].tolist() == answers


def test_text_is_nfc_headers_stripped_cells_kept(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "difficultés")
    text = f' id ; {decomposed} \n1;"  deux  espaces  "\n2;{unicodedata.normalize("NFD", "élève")}\n'
    table = read_survey(write(tmp_path, "nfd.csv", text))
    assert table.columns == ["id", "difficultés"]  # stripped and NFC
    assert table.frame["difficultés"].tolist() == ["  deux  espaces  ", "élève"]
    # a column name typed in NFD (macOS terminals) still matches
    ingested = build_answers(table, "id", [decomposed], [])
    assert [answer.text for answer in ingested.answers] == ["deux  espaces", "élève"]
    assert ingested.answers[0].question == "difficultés"


def test_na_none_and_leading_zeros_stay_text(tmp_path: Path) -> None:
    text = "id,question,autre\n007,NA,None\n008,N/A,\n009,Une vraie réponse,nan\n"
    table = read_survey(write(tmp_path, "na.csv", text))
    assert table.frame["id"].tolist() == ["007", "008", "009"]
    assert table.frame["question"].tolist() == ["NA", "N/A", "Une vraie réponse"]
    assert table.frame["autre"].tolist() == ["None", "", "nan"]
    assert not table.frame.isna().any().any()
    ingested = build_answers(table, "id", ["question"], [])
    # "NA" was read as text, so it is a placeholder, not an empty answer
    assert [answer.reason for answer in ingested.answers] == [
        RejectReason.PLACEHOLDER,
        RejectReason.PLACEHOLDER,
        None,
    ]
    assert ingested.counts()["question"] == {"rows": 3, "to_analyse": 1, "empty": 0, "placeholder": 2}


def test_blank_rows_are_skipped_but_keep_their_number(tmp_path: Path) -> None:
    text = "\nid;q\n1;Un\n\n;;\n4;Quatre\n"
    table = read_survey(write(tmp_path, "blank.csv", text))
    assert table.n_rows == 2
    assert list(table.frame.index) == [1, 4]
    assert [answer.row for answer in build_answers(table, "id", ["q"], []).answers] == [1, 4]


def test_trailing_delimiters_are_ignored(tmp_path: Path) -> None:
    table = read_survey(write(tmp_path, "trailing.csv", "id;q;\n1;Un;\n2;Deux;;\n"))
    assert table.columns == ["id", "q"]
    assert table.frame["q"].tolist() == ["Un", "Deux"]


# ----------------------------------------------------------------------------------------------------------
# XLSX


def test_xlsx_first_sheet_by_default_and_sheet_selection(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        {
            "Réponses": [["id ", "profession", "idees"], [1, "médecin", "Plus de formation\net de temps"]],
            "Autre": [["code", "avis"], ["a", "Bien"], ["b", "RAS"]],
        },
    )
    first = read_survey(path)
    assert (first.sheet, first.encoding, first.delimiter) == ("Réponses", None, None)
    assert first.columns == ["id", "profession", "idees"]
    assert first.frame.loc[1, "idees"] == "Plus de formation\net de temps"
    assert first.source == f"sheet 'Réponses' of '{path}'"

    other = read_survey(path, sheet="Autre")
    assert other.sheet == "Autre"
    assert other.columns == ["code", "avis"]
    assert other.n_rows == 2


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, {"Réponses": [["id", "q"], [1, "x"]], "Notes": [["a"], ["b"]]})
    with pytest.raises(InputFileError) as caught:
        read_survey(path, sheet="Reponses")
    message = str(caught.value)
    assert "sheet 'Reponses' not found" in message
    assert "did you mean 'Réponses'?" in message
    assert "sheets are: 'Réponses', 'Notes'" in message


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, {"Vide": [], "Données": [["id", "q"], [1, "x"]]})
    with pytest.raises(InputFileError, match=r"sheet 'Vide' of .* is empty; the other sheets are: 'Données'"):
        read_survey(path)


def test_xlsx_numbers_and_dates_become_clean_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        {
            "S": [
                ["id", "anciennete", "q", "NA"],
                [1, 3.5, "NA", None],
                [2.0, 10, "None", "x"],
                [1234567890123, 0.1, "Réponse", None],
            ]
        },
    )
    table = read_survey(path)
    assert table.frame["id"].tolist() == ["1", "2", "1234567890123"]
    assert table.frame["anciennete"].tolist() == ["3.5", "10", "0.1"]
    assert table.frame["q"].tolist() == ["NA", "None", "Réponse"]
    assert table.frame["NA"].tolist() == ["", "x", ""]
    ingested = build_answers(table, "id", ["q"], ["anciennete"])
    assert [respondent.respondent_id for respondent in ingested.respondents] == ["1", "2", "1234567890123"]
    assert ingested.respondents[0].attributes == {"anciennete": "3.5"}
    assert ingested.counts()["q"] == {"rows": 3, "to_analyse": 1, "empty": 0, "placeholder": 2}


def test_csv_renamed_xlsx(tmp_path: Path) -> None:
    path = write(tmp_path, "export.xlsx", "id;q\n1;x\n")
    with pytest.raises(InputFileError, match=r"not an Excel workbook: it looks like a text file.*rename it \.csv"):
        read_survey(path)


def test_sheet_given_for_a_csv_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="has no sheets"):
        read_survey(write(tmp_path, "s.csv", "id,q\n1,x\n"), sheet="Feuil1")


# ----------------------------------------------------------------------------------------------------------
# Unreadable files


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"survey file '.*missing\.csv' not found"):
        read_survey(tmp_path / "missing.csv")


def test_unsupported_extension_says_which_are_supported(tmp_path: Path) -> None:
    path = write(tmp_path, "survey.ods", "whatever")
    with pytest.raises(InputFileError) as caught:
        read_survey(path)
    message = str(caught.value)
    assert "unsupported extension '.ods'" in message
    assert ".csv, .tsv, .txt, .xlsx, .xlsm" in message


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"is empty \(0 bytes\)"):
        read_survey(write(tmp_path, "empty.csv", ""))


def test_blank_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="is empty: it has no header and no rows"):
        read_survey(write(tmp_path, "blank.csv", "\r\n \n\n"))


def test_header_only_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="has a header but no rows"):
        read_survey(write(tmp_path, "header.csv", "id;profession;q\n;;\n"))


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(InputFileError, match=r"binary file.*NUL bytes"):
        read_survey(path)


def test_zip_renamed_csv_says_rename_it_xlsx(tmp_path: Path) -> None:
    workbook = write_xlsx(tmp_path, {"S": [["id", "q"], [1, "x"]]})
    renamed = workbook.rename(tmp_path / "export.csv")
    with pytest.raises(InputFileError, match=r"this looks like an Excel file, rename it \.xlsx"):
        read_survey(renamed)


def test_plain_zip_renamed_csv(tmp_path: Path) -> None:
    path = tmp_path / "archive.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("survey.csv", "id;q\n1;x\n")
    with pytest.raises(InputFileError, match="looks like a zip archive"):
        read_survey(path)


def test_undecodable_file(tmp_path: Path) -> None:
    # Bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D), in no sensible French text.
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"id;q\n1;\x81\x8d\x8f\x90\x9d\x81\x8d\x8f\x90\x9d\x9d\x90\n")
    with pytest.raises(InputFileError, match=r"text encoding of .* cannot be told.*save it as CSV UTF-8"):
        read_survey(path)


def test_duplicate_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.csv", "id;q;region; q ;region\n1;a;b;c;d\n")
    with pytest.raises(InputFileError) as caught:
        read_survey(path)
    message = str(caught.value)
    assert "duplicate column names: 'q' (columns 2 and 4) and 'region' (columns 3 and 5)" in message


def test_duplicate_column_names_in_xlsx_use_letters(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, {"S": [["id", "q", "q"], [1, "a", "b"]]})
    with pytest.raises(InputFileError, match=r"'q' \(columns B and C\)"):
        read_survey(path)


def test_rows_with_more_cells_than_the_header(tmp_path: Path) -> None:
    text = "id;q\n1;a\n2;b;oops\n3;c\n4;d;more;cells\n"
    with pytest.raises(InputFileError, match=r"data rows 2 and 4 have more cells than the header \(2 columns\)"):
        read_survey(write(tmp_path, "long.csv", text))


def test_unclosed_quote(tmp_path: Path) -> None:
    text = 'id;q\n1;a\n2;"jamais fermé\n3;c\n'
    with pytest.raises(InputFileError, match="quoted cell that starts on line 3 is never closed"):
        read_survey(write(tmp_path, "quote.csv", text))


# ----------------------------------------------------------------------------------------------------------
# Columns


@pytest.fixture
def survey(tmp_path: Path) -> Path:
    text = (
        "id;profession;structure;region;Q 12;idees\n"
        "r1;enseignant;collège;Bretagne;Le réseau;Des formations\n"
        "r2;infirmière;hôpital;Occitanie;RAS;\n"
        "r3;médecin;cabinet;Bretagne;;Néant\n"
    )
    return write(tmp_path, "survey.csv", text)


def test_select_columns_accepts_existing_columns(survey: Path) -> None:
    select_columns(read_survey(survey), "id", ["Q 12", "idees"], ["profession", "region"])


def test_missing_column_with_suggestion(survey: Path) -> None:
    with pytest.raises(ColumnError) as caught:
        select_columns(read_survey(survey), "id", ["Q12"], [])
    message = str(caught.value)
    assert "column 'Q12' not found" in message
    assert "(did you mean 'Q 12'?)" in message
    assert "columns are: 'id', 'profession', 'structure', 'region', 'Q 12', 'idees'" in message


def test_all_missing_columns_are_listed_at_once(survey: Path) -> None:
    with pytest.raises(ColumnError) as caught:
        select_columns(read_survey(survey), "ident", ["Q12", "Idées", "autre"], ["Region", "age"])
    message = str(caught.value)
    assert message.startswith("6 columns not found in")
    for fragment in [
        "id column 'ident'",
        "question column 'Q12' (did you mean 'Q 12'?)",
        "question column 'Idées' (did you mean 'idees'?)",
        "question column 'autre'",
        "attribute column 'Region' (did you mean 'region'?)",
        "attribute column 'age'",
        "columns are: 'id',",
    ]:
        assert fragment in message


@pytest.mark.parametrize(
    ("questions", "attributes", "expected"),
    [
        ([], [], "no question column was given"),
        (["id"], [], "is the id column and cannot also be a question"),
        (["idees", "idees"], [], "question column 'idees' is given twice"),
        (["idees"], ["idees"], "column 'idees' is given both as a question and as an attribute"),
    ],
)
def test_inconsistent_column_choices(survey: Path, questions: list[str], attributes: list[str], expected: str) -> None:
    with pytest.raises(ColumnError, match=re.escape(expected)):
        select_columns(read_survey(survey), "id", questions, attributes)


# ----------------------------------------------------------------------------------------------------------
# Respondents and answers


def test_answers_respondents_and_counts(survey: Path) -> None:
    ingested = build_answers(read_survey(survey), "id", ["Q 12", "idees"], ["profession", "region"])
    assert [respondent.respondent_id for respondent in ingested.respondents] == ["r1", "r2", "r3"]
    assert ingested.respondents[1].row == 2
    assert ingested.respondents[1].attributes == {"profession": "infirmière", "region": "Occitanie"}
    assert len(ingested.answers) == 6  # one per (question, respondent)
    by_key = {(answer.question, answer.respondent_id): answer for answer in ingested.answers}
    assert by_key["Q 12", "r1"].text == "Le réseau"
    assert (by_key["Q 12", "r1"].status, by_key["Q 12", "r1"].reason) == (None, None)
    assert by_key["Q 12", "r2"].status is AnswerStatus.REJECTED
    assert by_key["Q 12", "r2"].reason is RejectReason.PLACEHOLDER
    assert by_key["Q 12", "r2"].text == "RAS"
    assert by_key["Q 12", "r3"].reason is RejectReason.EMPTY
    assert by_key["Q 12", "r3"].text == ""
    assert by_key["idees", "r3"].reason is RejectReason.PLACEHOLDER
    assert by_key["idees", "r3"].row == 3

    counts = ingested.counts()
    assert list(counts) == ["Q 12", "idees"]
    assert counts["Q 12"] == {"rows": 3, "to_analyse": 1, "empty": 1, "placeholder": 1}
    assert counts["idees"] == {"rows": 3, "to_analyse": 1, "empty": 1, "placeholder": 1}
    for tally in counts.values():
        assert tally["to_analyse"] + tally["empty"] + tally["placeholder"] == tally["rows"]


def test_counts_add_up_on_a_larger_survey(tmp_path: Path) -> None:
    choices = ["Une idée", "", "RAS", "  ", "-", "Le manque de temps", "NA", "Non."]
    lines = ["id,q1,q2"]
    for number in range(1, 201):
        lines.append(f'{number},"{choices[number % len(choices)]}","{choices[(number * 3) % len(choices)]}"')
    ingested = build_answers(read_survey(write(tmp_path, "big.csv", "\n".join(lines))), "id", ["q1", "q2"], [])
    for tally in ingested.counts().values():
        assert tally["rows"] == 200
        assert tally["to_analyse"] + tally["empty"] + tally["placeholder"] == 200
        assert tally == {"rows": 200, "to_analyse": 50, "empty": 50, "placeholder": 100}


def test_duplicate_ids_are_all_named_with_their_rows(tmp_path: Path) -> None:
    text = "id;q\nA;un\nB;deux\nA;trois\nC;quatre\nB;cinq\nA;six\n;sept\n"
    table = read_survey(write(tmp_path, "dup.csv", text))
    with pytest.raises(SurveyDataError) as caught:
        build_answers(table, "id", ["q"], [])
    message = str(caught.value)
    assert "'A' (data rows 1, 3 and 6)" in message
    assert "'B' (data rows 2 and 5)" in message
    assert "1 row has no id (data row 7)" in message
    assert "the header is not counted" in message


def test_many_duplicate_ids_are_capped(tmp_path: Path) -> None:
    lines = ["id,q"] + [f"{number % 30},réponse {number}" for number in range(60)]
    table = read_survey(write(tmp_path, "many.csv", "\n".join(lines)))
    with pytest.raises(SurveyDataError) as caught:
        build_answers(table, "id", ["q"], [])
    message = str(caught.value)
    assert "30 ids are used more than once" in message
    assert "'0' (data rows 1 and 31)" in message
    assert "and 10 more ids" in message
    assert "'29'" not in message


def test_empty_ids_are_named(tmp_path: Path) -> None:
    table = read_survey(write(tmp_path, "noid.csv", "id;q\n1;a\n ;b\n3;c\n;d\n"))
    with pytest.raises(SurveyDataError, match=r"2 rows have no id \(data rows 2 and 4\)"):
        build_answers(table, "id", ["q"], [])


def test_no_answer_to_analyse(tmp_path: Path) -> None:
    table = read_survey(write(tmp_path, "void.csv", "id;q1;q2\n1;;RAS\n2;-;\n3; ;Néant\n"))
    with pytest.raises(SurveyDataError) as caught:
        build_answers(table, "id", ["q1", "q2"], [])
    message = str(caught.value)
    assert "no answer to analyse in columns 'q1', 'q2'" in message
    assert "3 empty, 3 placeholders" in message


def test_custom_placeholders(survey: Path) -> None:
    ingested = build_answers(read_survey(survey), "id", ["Q 12", "idees"], [], placeholders={"Néant."})
    reasons = {(answer.question, answer.respondent_id): answer.reason for answer in ingested.answers}
    assert reasons["Q 12", "r2"] is None  # "RAS" is an answer with this list
    assert reasons["idees", "r3"] is RejectReason.PLACEHOLDER


# ----------------------------------------------------------------------------------------------------------
# Placeholders


@pytest.mark.parametrize(
    "text",
    [
        "RAS",
        "R.A.S.",
        " ras ",
        "R.A.S",
        "Ras !",
        "Néant",
        "NEANT",
        "néant.",
        "-",
        "--",
        " / ",
        ".",
        "?",
        "NSP",
        "nsp.",
        "Non.",
        "non",
        "NON !",
        "Je ne sais pas",
        "Pas d’idée",
        "pas d'idée...",
        "« RAS »",
        '"Non"',
        "(néant)",
        "N/A",
        "n/a",
        "NA",
        "Non concerné",
        "non concernee",
        "Aucune",
        "x",
        "Sans avis",
    ],
)
def test_placeholder_variants(text: str) -> None:
    assert is_placeholder(text, DEFAULT_PLACEHOLDERS)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Non, le réseau est trop lent",
        "Rien ne fonctionne",
        "Aucun ordinateur qui marche",
        "Nasty",
        "nations",
        "Plus de moyens.",
        "RAS le bol",
    ],
)
def test_real_answers_are_not_placeholders(text: str) -> None:
    assert not is_placeholder(text, DEFAULT_PLACEHOLDERS)


def test_default_placeholders_contain_the_documented_forms() -> None:
    for form in [
        "ras",
        "r.a.s",
        "non",
        "-",
        "/",
        ".",
        "nsp",
        "ne sais pas",
        "rien",
        "néant",
        "n/a",
        "na",
        "?",
    ]:
        assert form in DEFAULT_PLACEHOLDERS


# ----------------------------------------------------------------------------------------------------------
# The sample survey shipped in data/


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [("sample_survey.csv", "utf-8", ";"), ("sample_survey_cp1252.csv", "cp1252", ",")],
)
def test_sample_surveys(name: str, encoding: str, delimiter: str) -> None:
    table = read_survey(DATA / name)
    assert table.columns == SAMPLE_COLUMNS
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    ingested = build_answers(table, "id", ["difficultes", "idees"], ["profession", "structure", "region"])
    assert len(ingested.respondents) == table.n_rows
    for tally in ingested.counts().values():
        assert tally["rows"] == table.n_rows
        assert tally["to_analyse"] + tally["empty"] + tally["placeholder"] == tally["rows"]
        assert tally["to_analyse"] > 0


def test_the_flow_takes_the_survey_the_command_checked(tmp_path: Path) -> None:
    """Inside ``checked_surveys_kept`` (the command line around its check and its flow), the flow's read step gets what
    ``check_survey`` read, once, instead of reading the file again; a file changed since is read again; outside the
    block nothing is kept."""
    import os

    from verbatim.flows.config import AnalyseConfig, check_survey, checked_answers, checked_surveys_kept

    path = tmp_path / "survey.csv"
    path.write_text("id;q\nr1;Les démarches en ligne sont longues\nr2;Pas d'accès au réseau\n", encoding="utf-8")
    config = AnalyseConfig(survey_file=path, id_column="id", questions=["q"], out_dir=tmp_path / "runs")

    def rewrite_keeping_size_and_time(old: str, new: str) -> None:
        stat = path.stat()
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    def first_text(ingested: Ingested) -> str:
        return ingested.answers[0].text

    with checked_surveys_kept():
        table = check_survey(config)
        rewrite_keeping_size_and_time("longues", "lentes!")  # the same size and time: only a read would see it
        kept, ingested = checked_answers(config)
        assert kept is table and first_text(ingested) == "Les démarches en ligne sont longues"
        again, ingested = checked_answers(config)  # taken once: the file is read now
        assert again is not table and first_text(ingested) == "Les démarches en ligne sont lentes!"
        check_survey(config)
        path.write_text(path.read_text(encoding="utf-8") + "r3;Trop d'écrans\n", encoding="utf-8")
        assert len(checked_answers(config)[1].answers) == 3  # changed since the check: read again
    table = check_survey(config)
    rewrite_keeping_size_and_time("lentes!", "rapides")
    read, ingested = checked_answers(config)
    assert read is not table and first_text(ingested) == "Les démarches en ligne sont rapides"
