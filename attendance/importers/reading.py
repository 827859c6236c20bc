"""Opening what was uploaded: what kind of file it really is, and reading its tables in chunks.

Nothing here trusts the file name. The first bytes say what a file is; a name that promises one
thing while the bytes are another is refused with a message saying what was found. Zip
containers (XLSX workbooks and .zip bundles) are measured before anything is decompressed.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from attendance.importers.issues import FileRejected

CHUNK_ROWS = 200_000
HEADER_SEARCH_ROWS = 30
# Zip bombs: an XLSX is a zip. Real register workbooks compress about 5-20 times.
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 5000

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
XML_SUFFIXES = {".xml", ".ctf"}
ZIP_SUFFIXES = {".zip"}

_SIGNATURES = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel 97-2003 (.xls) or Word document"),
    (b"BM", None),  # bitmap: checked with a NUL test below, "BM" can start a text line
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]

HOW_TO_EXPORT = ("Export the register from your MIS as CSV, Excel (.xlsx) or a CTF (.xml) file "
                 "and upload that file as it was saved.")


@dataclass
class Input:
    """One file to read: a path on disk, its user-facing name and the kind its bytes show."""

    name: str
    path: Path
    kind: str  # "text" | "xlsx" | "xml"


def sniff_kind(head: bytes, name: str) -> str:
    """'text', 'xlsx', 'xml' or 'zip' from the first bytes; FileRejected when it is none."""
    suffix = Path(name).suffix.lower()
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise FileRejected(f"'{name}' is empty. {HOW_TO_EXPORT}")
    found = None
    for signature, what in _SIGNATURES:
        if head.startswith(signature) and what:
            found = what
    if found is None and head.startswith(b"BM") and b"\x00" in head[:64]:
        found = "a bitmap image"
    if found:
        raise FileRejected(f"'{name}' is {found}, not a register export. {HOW_TO_EXPORT}")
    if head.startswith(b"PK\x03\x04"):
        kind = "zip"
    elif head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        kind = "xml"
    elif b"\x00" in head[:8192]:
        raise FileRejected(f"'{name}' is a binary file, not a register export. {HOW_TO_EXPORT}")
    else:
        kind = "text"
    expected = ("text" if suffix in TEXT_SUFFIXES else "zip" if suffix in XLSX_SUFFIXES | ZIP_SUFFIXES
                else "xml" if suffix in XML_SUFFIXES else None)
    if expected and expected != kind:
        described = {"text": "a text (CSV) file", "zip": "a zip container (XLSX or .zip)",
                     "xml": "an XML document"}[kind]
        raise FileRejected(f"'{name}' is named as a {suffix} file but is {described}. "
                           f"Save it with the right extension, or {HOW_TO_EXPORT[0].lower()}"
                           f"{HOW_TO_EXPORT[1:]}")
    return kind


def check_zip(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse zip bombs before anything is decompressed: size, ratio and member count."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise FileRejected(f"'{name}' holds {len(infos)} files; at most {MAX_ZIP_MEMBERS} "
                           "are accepted.")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1024 * 1024 and (
            info.compress_size == 0 or info.file_size / info.compress_size > MAX_COMPRESSION_RATIO
        ):
            raise FileRejected(
                f"'{name}' is not a safe archive: '{info.filename}' would expand "
                f"{info.file_size // max(info.compress_size, 1)} times, to "
                f"{info.file_size // (1024 * 1024)} MB (a 'zip bomb'). Re-save the file from "
                "your MIS or spreadsheet program and upload it again.")
    if total > MAX_UNCOMPRESSED_BYTES:
        raise FileRejected(f"'{name}' would expand to {total // (1024 * 1024)} MB, more than the "
                           f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB accepted. Split it "
                           "into smaller files.")


def open_inputs(path: Path, name: str, workdir: Path) -> list[Input]:
    """The readable files inside an upload: itself, or the members of a .zip bundle."""
    with open(path, "rb") as fh:
        head = fh.read(16384)
    kind = sniff_kind(head, name)
    if kind != "zip":
        return [Input(name, path, kind)]
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FileRejected(f"'{name}' is damaged: it starts like a zip/XLSX file but cannot be "
                           f"opened ({exc}). {HOW_TO_EXPORT}") from exc
    with zf:
        check_zip(zf, name)
        names = set(zf.namelist())
        if "[Content_Types].xml" in names:
            if "xl/workbook.xml" in names:
                return [Input(name, path, "xlsx")]
            raise FileRejected(f"'{name}' is an Office document but not an Excel workbook. "
                               f"{HOW_TO_EXPORT}")
        if Path(name).suffix.lower() in XLSX_SUFFIXES:
            raise FileRejected(f"'{name}' is named .xlsx but is not an Excel workbook. "
                               f"{HOW_TO_EXPORT}")
        inputs: list[Input] = []
        for index, info in enumerate(zf.infolist()):
            member = info.filename
            if info.is_dir() or Path(member).name.startswith((".", "__MACOSX")) \
                    or "__MACOSX/" in member:
                continue
            target = workdir / f"member-{index}{Path(member).suffix.lower()}"
            with zf.open(info) as src, open(target, "wb") as dst:
                while block := src.read(1024 * 1024):
                    dst.write(block)
            with open(target, "rb") as fh:
                member_head = fh.read(16384)
            member_kind = sniff_kind(member_head, member)
            if member_kind == "zip":
                with zipfile.ZipFile(target) as inner:
                    check_zip(inner, member)
                    if "xl/workbook.xml" not in inner.namelist():
                        raise FileRejected(f"'{member}' inside '{name}' is itself an archive; "
                                           "put the register files directly in one .zip.")
                member_kind = "xlsx"
            inputs.append(Input(member, target, member_kind))
        if not inputs:
            raise FileRejected(f"'{name}' is an empty archive.")
        return inputs


# --- Text (CSV) -----------------------------------------------------------------------------


def detect_encoding(path: Path, name: str) -> str:
    """UTF-8 (with or without BOM) when every byte decodes; otherwise Windows-1252."""
    with open(path, "rb") as fh:
        bom = fh.read(3) == codecs.BOM_UTF8
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := fh.read(4 * 1024 * 1024):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8-sig" if bom else "utf-8"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            while block := fh.read(4 * 1024 * 1024):
                decoder.decode(block)
        except UnicodeDecodeError as exc:
            raise FileRejected(f"'{name}' is not readable text: it is neither UTF-8 nor "
                               f"Windows-1252 ({exc.reason}). Save it as 'CSV UTF-8'.") from exc
    return "cp1252"


@dataclass
class Table:
    """A header row and the data under it, read in chunks of rows."""

    source_name: str
    header: list[str]
    header_line: int  # 1-based line (CSV) or row (XLSX) of the header
    sheet: str | None = None
    _chunks: object = None  # callable(usecols) -> iterator of (DataFrame, lines ndarray)
    rows_read: int = 0
    notes: list[str] = field(default_factory=list)

    def chunks(self, usecols: list[int]) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        for frame, lines in self._chunks(usecols):
            # Drop rows that are blank in every used column (blank lines, trailing rows).
            if len(frame):
                blank = np.ones(len(frame), dtype=bool)
                for col in frame.columns:
                    blank &= _is_blank(frame[col]).to_numpy()
                if blank.any():
                    keep = ~blank
                    frame = frame.loc[keep].reset_index(drop=True)
                    lines = lines[keep]
            self.rows_read += len(frame)
            yield frame, lines


def _is_blank(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):  # compare the distinct values only
        cat = series.array
        blank = np.append(np.asarray(cat.categories, dtype=object) == "", True)  # code -1: NaN
        return pd.Series(blank[np.asarray(cat.codes)], index=series.index)
    values = series.to_numpy(dtype=object)
    return pd.Series(values == "", index=series.index)


def find_header(rows: list[list[str]], is_header) -> int | None:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if is_header(row):
            return index
    return None


def read_text_table(inp: Input, is_header) -> Table:
    encoding = detect_encoding(inp.path, inp.name)
    with open(inp.path, encoding=encoding, newline="") as fh:
        first_lines = []
        for _ in range(HEADER_SEARCH_ROWS):
            line = fh.readline()
            if not line:
                break
            first_lines.append(line)
    if not any(line.strip() for line in first_lines):
        raise FileRejected(f"'{inp.name}' is empty. {HOW_TO_EXPORT}")
    delimiter = _sniff_delimiter(first_lines)
    rows = [next(csv.reader([line], delimiter=delimiter), []) for line in first_lines]
    rows = [[cell.strip() for cell in row] for row in rows]
    index = find_header(rows, is_header)
    if index is None:
        raise FileRejected(
            f"'{inp.name}' has no header row with a UPN column in its first "
            f"{HEADER_SEARCH_ROWS} lines. The first row of the table must name the columns "
            "(for example UPN, Date, AM, PM).", line=1, column="UPN",
            value=first_lines[0].strip()[:80] if first_lines else "")
    header = rows[index]
    header_line = index + 1  # header rows here never contain quoted newlines

    # Columns are read as categoricals: the C parser hashes each cell's text as it reads, so
    # a chunk holds a few thousand distinct strings (UPNs, dates, codes) and small integer
    # codes instead of a Python string per cell, and validation works on the distinct values
    # straight away. With na_filter off a missing or short cell is "", never NaN.
    def chunks(usecols):
        try:
            reader = pd.read_csv(
                inp.path, encoding=encoding, sep=delimiter, header=None, skiprows=index + 1,
                names=list(range(len(header))), usecols=usecols, dtype="category",
                keep_default_na=False, na_filter=False, skip_blank_lines=False,
                chunksize=CHUNK_ROWS, engine="c", index_col=False,
            )
            start = header_line + 1
            for frame in reader:
                lines = np.arange(start, start + len(frame), dtype=np.int64)
                start += len(frame)
                yield frame, lines
        except pd.errors.ParserError as exc:
            raise FileRejected(f"'{inp.name}' could not be read as a table: {exc}. Check that "
                               "every row has the same number of columns as the header.") from exc

    return Table(inp.name, header, header_line, None, chunks)


def _sniff_delimiter(lines: list[str]) -> str:
    sample = [line for line in lines if line.strip()][:HEADER_SEARCH_ROWS]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        counts = [line.count(delimiter) for line in sample]
        # The delimiter that splits the most lines the same, non-zero number of ways.
        score = max((counts.count(c) * 1000 + c for c in set(counts) if c), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# --- XLSX -----------------------------------------------------------------------------------


def read_xlsx_table(inp: Input, is_header) -> Table:
    import openpyxl

    try:
        # A file object, not the path: stored uploads are named by their sha256, no extension.
        workbook = openpyxl.load_workbook(open(inp.path, "rb"), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise FileRejected(f"'{inp.name}' is not a readable Excel workbook ({exc.__class__.__name__}"
                           f": {exc}). {HOW_TO_EXPORT}") from exc
    for sheet in workbook.worksheets:
        head_rows = []
        for row in sheet.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, values_only=True):
            head_rows.append(["" if v is None else str(v).strip() for v in row])
        index = find_header(head_rows, is_header)
        if index is None:
            continue
        header = head_rows[index]
        header_row = index + 1
        title = sheet.title

        def chunks(usecols, sheet=sheet, header_row=header_row):
            batch, lines = [], []
            for number, row in enumerate(
                sheet.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1
            ):
                batch.append([row[i] if i < len(row) else None for i in usecols])
                lines.append(number)
                if len(batch) >= CHUNK_ROWS:
                    yield _xlsx_frame(batch, usecols), np.asarray(lines, dtype=np.int64)
                    batch, lines = [], []
            if batch:
                yield _xlsx_frame(batch, usecols), np.asarray(lines, dtype=np.int64)
            workbook.close()

        return Table(inp.name, header, header_row, title, chunks)
    workbook.close()
    raise FileRejected(f"No sheet of '{inp.name}' has a header row with a UPN column in its first "
                       f"{HEADER_SEARCH_ROWS} rows. The first row of the table must name the "
                       "columns (for example UPN, Date, AM, PM).", line=1, column="UPN")


def _xlsx_frame(batch, usecols) -> pd.DataFrame:
    frame = pd.DataFrame(batch, columns=usecols, dtype=object)
    return frame.where(frame.notna(), "")


def read_table(inp: Input, is_header) -> Table:
    if inp.kind == "xlsx":
        return read_xlsx_table(inp, is_header)
    return read_text_table(inp, is_header)


NORMALISE = re.compile(r"[^0-9a-z]+")


def normalise_header(label: str) -> str:
    """Lower case, every character but letters and digits removed: 'AM/PM' → 'ampm'."""
    return NORMALISE.sub("", str(label).lower())


def excel_column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


__all__ = ["Input", "Table", "open_inputs", "read_table", "normalise_header", "excel_column"]
