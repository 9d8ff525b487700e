"""OOXML housekeeping for the exported .docx: child-element order, core properties, PDF.

WordprocessingML is strict about the order of the children of ``w:rPr``,
``w:pPr`` and ``w:sectPr`` (ECMA-376 Part 1, CT_RPr / CT_PPrBase / CT_SectPr).
python-docx puts the elements it knows in place, but anything appended by
hand (``w:spacing`` for the character condensing, ``w:snapToGrid``,
``w:keepNext``) lands at the end, and Word then "repairs" the file or drops
the setting. ``fix_order`` sorts every such element once, just before saving;
``order_errors`` is the check the tests run over every part of the package.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# ECMA-376 5th ed. Part 1, §17.3.2.28 (CT_RPr = EG_RPrBase + rPrChange).
RPR_ORDER = ("rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
             "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden",
             "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect",
             "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout",
             "specVanish", "oMath", "rPrChange")
# §17.3.1.26 (CT_PPrBase, then rPr, sectPr, pPrChange of CT_PPr).
PPR_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
             "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
             "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
             "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
             "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle",
             "rPr", "sectPr", "pPrChange")
# §17.6.17 (CT_SectPr): header/footer references first, in any order among themselves.
SECTPR_ORDER = ("headerReference", "footerReference", "footnotePr", "endnotePr", "type", "pgSz", "pgMar",
                "paperSrc", "pgBorders", "lnNumType", "pgNumType", "cols", "formProt", "vAlign",
                "noEndnote", "titlePg", "textDirection", "bidi", "rtlGutter", "docGrid", "printerSettings",
                "sectPrChange")
_RANK = {"rPr": {n: i for i, n in enumerate(RPR_ORDER)},
         "pPr": {n: i for i, n in enumerate(PPR_ORDER)},
         "sectPr": {n: i for i, n in enumerate(SECTPR_ORDER)}}
_RANK["sectPr"]["footerReference"] = 0   # references may interleave


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def fix_order(root) -> int:
    """Sort the children of every rPr/pPr/sectPr under ``root`` into schema order; returns how many moved."""
    moved = 0
    for kind, rank in _RANK.items():
        for el in root.iter(W + kind):
            kids = list(el)
            want = sorted(kids, key=lambda k: rank.get(_local(k.tag), len(rank)))
            if want != kids:
                moved += 1
                for k in kids:
                    el.remove(k)
                for k in want:
                    el.append(k)
    return moved


def fix_document(doc) -> None:
    """Every part python-docx will write: body, styles, headers and footers."""
    fix_order(doc.element)
    fix_order(doc.styles.element)
    for sec in doc.sections:
        for part in (sec.header, sec.even_page_header, sec.first_page_header,
                     sec.footer, sec.even_page_footer, sec.first_page_footer):
            if not part.is_linked_to_previous:
                fix_order(part._element)


def order_errors(docx: bytes | Path) -> list[str]:
    """Each rPr/pPr/sectPr child out of schema order in any XML part of the package."""
    from lxml import etree
    src = docx if isinstance(docx, (str, Path)) else __import__("io").BytesIO(docx)
    errors = []
    with zipfile.ZipFile(src) as z:
        for name in z.namelist():
            if not name.startswith("word/") or not name.endswith(".xml"):
                continue
            root = etree.fromstring(z.read(name))
            for kind, rank in _RANK.items():
                for el in root.iter(W + kind):
                    last = -1
                    for k in el:
                        r = rank.get(_local(k.tag))
                        if r is None:
                            errors.append(f"{name}: unknown {_local(k.tag)} in {kind}")
                            continue
                        if r < last:
                            errors.append(f"{name}: {_local(k.tag)} after a later element in {kind}")
                        last = max(last, r)
    return errors


# ---------------------------------------------------------------- PDF through LibreOffice

def soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for guess in ("/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
                  "/Applications/LibreOffice.app/Contents/MacOS/soffice",
                  r"C:\Program Files\LibreOffice\program\soffice.exe"):
        if Path(guess).exists():
            return guess
    return None


def to_pdf(docx_paths: list[Path], outdir: Path, timeout: float = 240) -> list[Path]:
    """Convert several .docx in one LibreOffice run (start-up is most of the cost).

    A private profile keeps it from clashing with a LibreOffice the officer has open.
    Raises ``FileNotFoundError`` when soffice is not installed and ``RuntimeError``
    when it produced no PDF.
    """
    exe = soffice()
    if exe is None:
        raise FileNotFoundError("soffice")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xueji-lo-") as prof:
        proc = subprocess.run([exe, f"-env:UserInstallation={Path(prof).as_uri()}", "--headless",
                               "--norestore", "--convert-to", "pdf", "--outdir", str(outdir),
                               *[str(p) for p in docx_paths]],
                              capture_output=True, timeout=timeout)
    out = [outdir / (Path(p).stem + ".pdf") for p in docx_paths]
    missing = [p for p in out if not p.exists()]
    if missing:
        detail = (proc.stderr or proc.stdout or b"").decode("utf-8", "replace").strip()[-300:]
        raise RuntimeError(detail or f"exit {proc.returncode}")
    return out


_PUA_OR_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D\U0001F1E6-\U0001F1FF\uE000-\uF8FF]")


def unprintable(text: str) -> list[str]:
    """Characters the official faces (仿宋/黑体/小标宋) lack: emoji, pictographs, private use."""
    seen: list[str] = []
    for m in _PUA_OR_EMOJI.finditer(text or ""):
        ch = m.group(0)
        if ch in ("\uFE0F", "\u200D"):
            continue
        try:
            ch.encode("gb2312")     # ★ ☆ ♀ ♂ …: in GB 2312, so every official face has them
            continue
        except UnicodeEncodeError:
            pass
        if ch not in seen:
            seen.append(ch)
    return seen
