import hashlib

from insats.provenance import checksum_inputs, code_version, content_hash, sha256_file


def test_sha256_and_folder_hash_follow_contents(tmp_path):
    a = tmp_path / "d" / "a.txt"
    a.parent.mkdir()
    a.write_text("försörjningsstöd", encoding="utf-8")
    assert sha256_file(a) == hashlib.sha256("försörjningsstöd".encode()).hexdigest()
    before = content_hash(a.parent)
    (a.parent / "b.txt").write_text("x", encoding="utf-8")
    assert content_hash(a.parent) != before
    records = checksum_inputs([a.parent])
    assert [r["path"].rsplit("/", 1)[1] for r in records] == ["a.txt", "b.txt"]


def test_code_version_names_the_package():
    assert code_version()["package"]
