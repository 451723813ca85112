"""The IMDb loader: download through a file:// URL, cache, extraction and errors.

Nothing here touches the network: a small fake archive is served from tmp_path.
"""

import hashlib
import io
import tarfile
import urllib.request

import pytest

from rnnlab.data import imdb
from rnnlab.data.imdb import (
    ARCHIVE_NAME,
    LABELS,
    clean_review,
    data_root,
    load_imdb,
)

# split -> folder -> {file name: text}; ids chosen so that numeric order differs from
# the order of the names as strings (10_ sorts before 9_)
REVIEWS = {
    "train": {
        "neg": {
            "10_2.txt": "Dull.<br /><br />Really dull.",
            "9_1.txt": "Awful film, caf\u00e9 scene aside.",
        },
        "pos": {
            "3_10.txt": "Loved it<br/>\u2014 a joy \u2603",
            "0_7.txt": "Good fun.",
        },
    },
    "test": {
        "neg": {"200_4.txt": "Meh <BR />  meh."},
        "pos": {"200_8.txt": "Great!<br /><br />"},
    },
}


def make_archive(path, reviews=REVIEWS, extra=()):
    """A gzipped tar laid out like aclImdb_v1.tar.gz; ``extra`` adds raw members
    ``(name, bytes)``."""
    members = [("aclImdb/README", b"fake")]
    members += [("aclImdb/train/unsup/0_0.txt", b"unlabelled, ignored")]
    for split, folders in reviews.items():
        for folder, files in folders.items():
            members += [
                (f"aclImdb/{split}/{folder}/{name}", text.encode("utf-8"))
                for name, text in files.items()
            ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [*members, *extra]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def served(tmp_path):
    """``(url, sha256)`` of a fake archive outside the cache folder."""
    path = make_archive(tmp_path / "server" / ARCHIVE_NAME)
    return path.as_uri(), hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_extract_read_in_a_fixed_order(tmp_path, served):
    url, sha = served
    root = tmp_path / "cache"
    train = load_imdb("train", root=root, url=url, sha256=sha, progress=False)
    assert train.text == [
        "Awful film, caf\u00e9 scene aside.",
        "Dull. Really dull.",
        "Good fun.",
        "Loved it \u2014 a joy \u2603",
    ]
    assert train.label.tolist() == [0, 0, 1, 1] and train.label.dtype == "int64"
    assert train.rating.tolist() == [1, 2, 7, 10]
    assert train.review_id.tolist() == [9, 10, 0, 3]
    assert len(train) == 4 and train.counts() == {"negative": 2, "positive": 2}
    assert LABELS[train.label[-1]] == "positive" and "4 reviews" in repr(train)
    test = load_imdb("test", root=root, url=url, sha256=sha, progress=False)
    assert test.text == ["Meh meh.", "Great!"] and test.split == "test"
    # the archive is kept beside the folder, and no temporary file is left
    assert sorted(p.name for p in root.iterdir()) == ["aclImdb", ARCHIVE_NAME]
    assert (root / "aclImdb" / "train" / "unsup").is_dir()  # extracted, never read
    assert "unlabelled, ignored" not in train.text


def test_clean_review():
    assert clean_review("a<br />b<br/><br>c <BR /> d") == "a b c d"
    assert clean_review("  <br /><br />end<br />") == "end"
    assert clean_review("x < br") == "x < br"


def test_the_second_call_uses_the_cache(tmp_path, served, monkeypatch):
    url, sha = served
    root = tmp_path / "cache"
    first = load_imdb(root=root, url=url, sha256=sha, progress=True)

    def offline(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    (root / ARCHIVE_NAME).unlink()
    again = load_imdb(root=root, url=url, sha256=sha, download=False)
    assert again.text == first.text and again.label.tolist() == first.label.tolist()
    # an archive in the cache, not yet extracted, is extracted with no download, on
    # a Python without tarfile's "data" filter too
    make_archive(tmp_path / "other" / ARCHIVE_NAME)
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    assert len(load_imdb(root=tmp_path / "other", sha256=None, download=False)) == 4


def test_download_false_without_cache_says_where_it_looked(tmp_path):
    root = tmp_path / "empty"
    with pytest.raises(FileNotFoundError) as info:
        load_imdb(root=root, download=False)
    message = str(info.value)
    assert str(root / "aclImdb") in message and str(root / ARCHIVE_NAME) in message
    assert "download=True" in message and "RNNLAB_DATA" in message
    assert not root.exists()


def test_bad_arguments_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"split must be one of .*got 'val'"):
        load_imdb("val", root=tmp_path, download=False)
    with pytest.raises(ValueError, match=r"sha256 must be 64 hexadecimal .*'abc'"):
        load_imdb(root=tmp_path, sha256="abc")
    assert list(tmp_path.iterdir()) == []


def test_checksum_mismatch_keeps_nothing(tmp_path, served):
    url, sha = served
    root = tmp_path / "cache"
    with pytest.raises(ValueError, match=rf"SHA-256 {sha}, expected 0{{64}}"):
        load_imdb(root=root, url=url, sha256="0" * 64, progress=False)
    assert list(root.iterdir()) == []  # no archive, no temporary file, no folder
    with pytest.raises(FileNotFoundError):
        load_imdb(root=root, download=False)
    # an archive put in the cache by hand is checked too, and kept for the user
    make_archive(root / ARCHIVE_NAME)
    with pytest.raises(ValueError, match="delete it to download it again"):
        load_imdb(root=root, sha256="0" * 64)
    assert sorted(p.name for p in root.iterdir()) == [ARCHIVE_NAME]


def test_a_failed_download_leaves_no_file(tmp_path):
    root = tmp_path / "cache"
    missing = (tmp_path / "nowhere" / ARCHIVE_NAME).as_uri()
    with pytest.raises(ConnectionError, match="could not download"):
        load_imdb(root=root, url=missing, progress=False)
    assert list(root.iterdir()) == []


def test_unsafe_members_are_refused(tmp_path):
    for name in ("aclImdb/../../evil.txt", "/tmp/evil.txt"):
        root = tmp_path / f"cache{len(name)}"
        make_archive(root / ARCHIVE_NAME, extra=[(name, b"boo")])
        with pytest.raises(ValueError, match="would be written outside"):
            load_imdb(root=root, sha256=None, download=False)
        assert sorted(p.name for p in root.iterdir()) == [ARCHIVE_NAME]
    assert not (tmp_path / "evil.txt").exists()
    root = tmp_path / "links"
    root.mkdir()
    with tarfile.open(root / ARCHIVE_NAME, "w:gz") as tar:
        link = tarfile.TarInfo("aclImdb/train/neg/1_1.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(ValueError, match="not a plain file or folder"):
        load_imdb(root=root, sha256=None, download=False)


def test_corrupt_and_foreign_archives(tmp_path):
    root = tmp_path / "corrupt"
    root.mkdir()
    (root / ARCHIVE_NAME).write_bytes(b"not an archive at all")
    with pytest.raises(ValueError, match="is not a readable gzipped tar"):
        load_imdb(root=root, sha256=None, download=False)
    good = make_archive(tmp_path / ARCHIVE_NAME).read_bytes()
    (root / ARCHIVE_NAME).write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(ValueError, match="is not a readable gzipped tar"):
        load_imdb(root=root, sha256=None, download=False)
    root = tmp_path / "foreign"
    make_archive(root / ARCHIVE_NAME, reviews={"train": REVIEWS["train"]})
    with pytest.raises(ValueError, match="has no folder aclImdb/test/neg"):
        load_imdb(root=root, sha256=None, download=False)
    assert sorted(p.name for p in root.iterdir()) == [ARCHIVE_NAME]


def test_cache_folder_from_the_environment(tmp_path, served, monkeypatch):
    url, sha = served
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env" and data_root("x") == imdb.Path("x")
    assert len(load_imdb("test", url=url, sha256=sha, progress=False)) == 2
    assert (tmp_path / "env" / "aclImdb" / "test" / "pos" / "200_8.txt").is_file()
    monkeypatch.delenv("RNNLAB_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_root() == tmp_path / "home" / ".cache" / "rnnlab"
    assert data_root("~/d") == tmp_path / "home" / "d"


def _cached_real_folder():
    folder = data_root() / "aclImdb"
    return folder if (folder / "test" / "pos").is_dir() else None


@pytest.mark.skipif(
    _cached_real_folder() is None, reason="the real IMDb reviews are not in the cache"
)
def test_the_real_archive_has_the_documented_counts():
    for split in ("train", "test"):
        c = load_imdb(split, download=False)
        assert c.counts() == {"negative": 12500, "positive": 12500}
        assert set(c.rating[c.label == 0].tolist()) <= {1, 2, 3, 4}
        assert set(c.rating[c.label == 1].tolist()) <= {7, 8, 9, 10}
        assert not any("<br" in t for t in c.text[:1000])
