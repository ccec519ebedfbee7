"""Stage 1, text formats: the bytes of a .txt, .md or .html file (or a web page imported into a Word
file) as text, with the encoding named. UTF-8 and BOMs are certain; GB18030, Big5 and UTF-16 are told
apart by which decodes and which reads as language. A bad file raises RejectedFile with a Chinese reason.
"""
from __future__ import annotations

from qa.ingest.blocks import RejectedFile

MAX_BYTES = 20 * 1024 * 1024  # a policy text is kilobytes; 20 MB is surely not one


# Python codec name → what a user recognises
_ENCODING_NAMES = {"utf_8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "utf_16": "UTF-16", "utf_16_le": "UTF-16",
                   "utf_16_be": "UTF-16", "gb18030": "GB18030/GBK", "gb2312": "GB18030/GBK", "gbk": "GB18030/GBK",
                   "big5": "Big5（繁体中文）", "big5hkscs": "Big5-HKSCS（繁体中文）", "cp950": "Big5（繁体中文）"}
# Encodings a Chinese text file plausibly comes in; charset-normalizer picks among them.
_CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be", "utf_32"]


def check_size(data: bytes, limit: int = MAX_BYTES) -> None:
    if not data.strip():
        raise RejectedFile("文件为空")
    if len(data) > limit:
        raise RejectedFile(f"文件过大（{len(data) // 1024 // 1024} MB，上限 {limit // 1024 // 1024} MB）")


def _detect(data: bytes) -> tuple[str, str]:
    """(text, codec). BOMs and valid UTF-8 are certain; anything else is charset-normalizer's best guess."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf_16"), (b"\xfe\xff", "utf_16")):
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), "utf-8-sig"
    except UnicodeDecodeError:
        pass
    # Only encodings that decode the bytes without error are in the running; when several do
    # (GB18030 and Big5 share byte ranges), charset-normalizer judges which reads as language.
    fits = []
    for codec in _CANDIDATES:
        try:
            data.decode(codec)
            fits.append(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    if len(fits) == 1 and fits[0] == "gb18030":
        return data.decode("gb18030"), "gb18030"
    if fits[:2] == ["gb18030", "big5"] and len(data) < 200:
        # too short for a statistical detector: the reading made of common characters wins
        codec = "big5" if _common_share(data.decode("big5"), "big5") > _common_share(data.decode("gb18030"), "gb2312") \
            else "gb18030"
        return data.decode(codec), codec
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=fits or _CANDIDATES).best() if fits else None
    if best is None or best.chaos > 0.3:
        raise RejectedFile("无法解码：不是 UTF-8、UTF-16、GB18030 或 Big5 编码的文本")
    return str(best), best.encoding


def _reads_as_text(text: str) -> bool:
    ok = sum(1 for c in text if c.isprintable() and c != "\ufffd" or c in "\n\r\t")
    han_or_ascii = sum(1 for c in text if c < "\x7f" or "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f"
                       or "\uff00" <= c <= "\uffef")
    return bool(text) and ok >= 0.98 * len(text) and han_or_ascii >= 0.9 * len(text)


def _common_share(text: str, codec: str) -> float:
    """Share of the Chinese characters that sit in the frequent-character block of the encoding
    (GB2312 level 1, lead bytes B0–D7; Big5 frequent characters, lead bytes A4–C6)."""
    lo, hi = (0xB0, 0xD7) if codec == "gb2312" else (0xA4, 0xC6)
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    common = 0
    for c in han:
        try:
            common += lo <= c.encode(codec)[0] <= hi
        except UnicodeEncodeError:
            pass
    return common / len(han) if han else 0.0


def decode(data: bytes, name: str = "") -> tuple[str, str]:
    """Return (text, encoding). Raises RejectedFile with a Chinese reason."""
    check_size(data)
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 without a BOM has NUL bytes too; binary data does not read as text in it
        for codec in ("utf_16_le", "utf_16_be"):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if _reads_as_text(text[:4096]):
                return text, codec
        raise RejectedFile("看起来是二进制文件，不是文本")
    text, enc = _detect(data)
    sample = text[:8192]
    bad = sum(1 for c in sample if (ord(c) < 32 and c not in "\n\r\t\f") or c == "\ufffd")
    if bad > max(8, len(sample) // 50):
        if b"\x00" in data[:8192]:
            raise RejectedFile("看起来是二进制文件，不是文本")
        raise RejectedFile("含有大量控制字符或乱码，不像文本文件")
    if not text.strip():
        raise RejectedFile("文件没有文字内容")
    return text, enc


def encoding_warning(enc: str) -> tuple[str, ...]:
    """A note for the user when a text file was not UTF-8: the guess is stated, never silent."""
    if enc in ("utf-8-sig", "utf_8", "utf-8"):
        return ()
    return (f"文件编码不是 UTF-8，已自动识别为 {_ENCODING_NAMES.get(enc, enc)} 并转换；如显示乱码，请另存为 UTF-8 后重新上传",)
