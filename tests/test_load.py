from pathlib import Path

import pytest

from qa.load import MAX_BYTES, RejectedFile, decode, load_directory


def test_utf8_and_gb18030_decode():
    assert decode("驻村帮扶".encode("utf-8")) == ("驻村帮扶", "utf-8-sig")
    assert decode("驻村帮扶".encode("gb18030")) == ("驻村帮扶", "gb18030")
    assert decode("\ufeff驻村".encode("utf-8"))[0] == "驻村"  # BOM dropped


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "为空"),
        (b"   \n\t ", "为空"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "二进制"),
        (bytes(range(0x80, 0x100)) * 40, "解码"),
    ],
)
def test_bad_bytes_are_rejected_with_reason(data, reason):
    with pytest.raises(RejectedFile, match=reason):
        decode(data)


def test_huge_file_rejected():
    with pytest.raises(RejectedFile, match="过大"):
        decode(b"a" * (MAX_BYTES + 1))


def test_directory_load_skips_bad_files_and_keeps_good(tmp_path: Path, seeds_dir: Path):
    (tmp_path / "good.txt").write_bytes((seeds_dir / "002_2d655d4704b4aa68.txt").read_bytes())
    (tmp_path / "gbk.md").write_bytes("一、总体要求\n坚持党建引领。".encode("gb18030"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")  # a PDF cut off after its header
    (tmp_path / "notes.xlsx").write_bytes(b"PK\x03\x04")  # not a supported suffix: ignored silently
    docs, warnings = load_directory(tmp_path)
    assert sorted(d.name for d in docs) == ["gbk.md", "good.txt"]
    assert {w.name: w.reason for w in warnings} == {"blob.txt": "看起来是二进制文件，不是文本", "empty.txt": "文件为空",
                                                    "notes.pdf": "PDF 文件已损坏，无法打开"}
    assert "已跳过 empty.txt" in str(warnings[1]) or "已跳过 empty.txt" in str(warnings[0])


def test_missing_directory_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="文档目录不存在"):
        load_directory(tmp_path / "nope")
