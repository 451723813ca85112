"""The IMDb movie reviews of Maas et al. (2011), downloaded once and cached.

The Large Movie Review Dataset v1.0 (https://ai.stanford.edu/~amaas/data/sentiment/)
holds 50,000 IMDb reviews labelled by their star rating, 25,000 for training and
25,000 for testing, half negative (rating 4 or less out of 10) and half positive (7 or
more) in each; reviews of one movie are all in one split, at most 30 per movie. A
further 50,000 unlabelled reviews (``train/unsup``) are not read here.

Source: the archive :data:`IMDB_URL`, 84,125,825 bytes (about 80 MiB) compressed and
about 100,000 small text files once extracted. It comes with no licence of its own;
the reviews were written by IMDb users, and the dataset page asks that work using it
cite

    Andrew L. Maas, Raymond E. Daly, Peter T. Pham, Dan Huang, Andrew Y. Ng and
    Christopher Potts. 2011. Learning Word Vectors for Sentiment Analysis. In
    Proceedings of ACL-HLT 2011, pages 142-150, Portland, Oregon.

Treat it as data for research and teaching.

What :func:`load_imdb` does, reproducibly:

* downloads the archive once into a cache folder (:func:`data_root`: the argument
  ``root``, else ``$RNNLAB_DATA``, else ``~/.cache/rnnlab``), through a temporary file
  renamed into place only once complete and, by default, once its SHA-256 matches
  :data:`IMDB_SHA256`; the archive is kept beside the extracted folder ``aclImdb``;
* extracts it into a temporary folder renamed into place once complete, refusing
  members that are not plain files or folders or would land outside it (and with
  ``tarfile``'s ``"data"`` filter where Python has it);
* reads ``aclImdb/{split}/neg/*.txt`` then ``aclImdb/{split}/pos/*.txt`` as UTF-8, each
  folder in increasing review id (the ``id`` of the file name ``{id}_{rating}.txt``),
  so the order never depends on the file system: every negative review first, then
  every positive one (shuffle before training);
* replaces the HTML line breaks ``<br />`` of the reviews (a run of them with the
  whitespace around it) by one space and strips the ends; nothing else is changed.

The network is needed only for the first call; the book and the tests never download.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

LABELS = ("negative", "positive")
FOLDERS = ("neg", "pos")  # the folders of LABELS in the archive
SPLITS = ("train", "test")

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
FOLDER_NAME = "aclImdb"
# From tensorflow-datasets, tensorflow_datasets/datasets/imdb_reviews/checksums.tsv
# (84,125,825 bytes); torchtext's datasets/imdb.py pins the MD5
# 7c2ac02c03563afcf9b574c7e56c153a of the same archive.
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
ENV_VAR = "RNNLAB_DATA"
DEFAULT_ROOT = "~/.cache/rnnlab"

_NAME_RE = re.compile(r"(\d+)_(\d+)\.txt")
_BREAKS_RE = re.compile(r"\s*(?:<br\s*/?>\s*)+", re.IGNORECASE)
_CHUNK = 1 << 20


@dataclass
class ReviewCorpus:
    """Movie reviews of one split with their labels and star ratings.

    Attributes
    ----------
    text : list of str, length M
    label : int64 array, shape (M,): index into :data:`LABELS` (0 negative, 1 positive)
    rating : int64 array, shape (M,): the reviewer's stars, 1 to 10
    review_id : int64 array, shape (M,): the id of the file name; unique within one
        label of one split, not across them
    split : str: ``"train"`` or ``"test"``
    stats : dict
        Where the reviews were read from.
    """

    text: list
    label: np.ndarray
    rating: np.ndarray
    review_id: np.ndarray
    split: str
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.text)

    def counts(self) -> dict:
        """Number of reviews per label name."""
        return {name: int((self.label == k).sum()) for k, name in enumerate(LABELS)}

    def __repr__(self):
        return f"ReviewCorpus({self.split!r}, {len(self)} reviews, {self.counts()})"


def data_root(root=None) -> Path:
    """The cache folder: ``root`` if given, else ``$RNNLAB_DATA`` if set and not
    empty, else ``~/.cache/rnnlab`` (``~`` expanded with :func:`os.path.expanduser`)."""
    if root is None:
        root = os.environ.get(ENV_VAR) or DEFAULT_ROOT
    return Path(os.path.expanduser(os.fspath(root)))


def clean_review(text: str) -> str:
    """The review with each run of ``<br />`` tags (and the whitespace around it)
    made one space, and the ends stripped."""
    return _BREAKS_RE.sub(" ", text).strip()


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def _check_sha256(sha256):
    if sha256 is not None and not (
        isinstance(sha256, str) and re.fullmatch(r"[0-9a-fA-F]{64}", sha256)
    ):
        raise ValueError(
            f"sha256 must be 64 hexadecimal digits or None (no check), got {sha256!r}"
        )


def _checksum_error(what, got, expected) -> ValueError:
    return ValueError(
        f"{what} has SHA-256 {got}, expected {expected.lower()}: a broken or "
        "changed archive (pass sha256=None to skip the check)"
    )


def download_file(url: str, path, sha256=None, progress: bool = True) -> Path:
    """Download ``url`` to ``path`` through a temporary file in the same folder.

    The file is renamed to ``path`` only once complete and, if ``sha256`` is given,
    once its SHA-256 matches; otherwise the temporary file is removed, so an
    interrupted or corrupt download never leaves a file that looks complete.

    Parameters
    ----------
    url : str: ``https://``, ``http://`` or ``file://``
    path : where the file goes; its folder is created if missing
    sha256 : str or None: the expected SHA-256 in hexadecimal, None for no check
    progress : bool: show a progress bar
    """
    _check_sha256(sha256)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    )
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=60)
            except (OSError, ValueError) as e:  # URLError is an OSError
                raise ConnectionError(
                    f"could not download {url} ({e}); with no network, copy "
                    f"{path.name} into {path.parent} by hand"
                ) from e
            with (
                response,
                tqdm(
                    total=int(response.headers.get("Content-Length") or 0) or None,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=path.name,
                    disable=not progress,
                ) as bar,
            ):
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if sha256 is not None and digest.hexdigest() != sha256.lower():
            raise _checksum_error(f"the download of {url}", digest.hexdigest(), sha256)
        os.replace(part, path)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise
    return path


def _safe_members(archive: tarfile.TarFile, dest: Path):
    """The members of ``archive``, all checked before anything is written: plain files
    and folders whose paths stay inside ``dest``."""
    dest = os.path.realpath(dest)
    members = archive.getmembers()
    for m in members:
        target = os.path.realpath(os.path.join(dest, m.name))
        if not (m.isfile() or m.isdir()):
            raise ValueError(
                f"archive member {m.name!r} is not a plain file or folder: refused"
            )
        if os.path.isabs(m.name) or os.path.commonpath([dest, target]) != dest:
            raise ValueError(
                f"archive member {m.name!r} would be written outside {dest}: refused"
            )
    return members


def extract(archive, root) -> Path:
    """Extract the IMDb ``archive`` into ``root``, giving ``root / "aclImdb"``.

    The members are all checked before anything is written and go into a
    temporary folder inside ``root``, renamed into place once complete.

    Raises
    ------
    ValueError
        If the archive is not a readable gzipped tar, has an unsafe member, or lacks
        the folders ``aclImdb/{train,test}/{neg,pos}``.
    """
    archive, root = Path(archive), Path(root)
    target = root / FOLDER_NAME
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{FOLDER_NAME}-"))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = _safe_members(tar, tmp)
                if hasattr(tarfile, "data_filter"):  # Python 3.12, 3.11.4, 3.10.12
                    tar.extractall(tmp, members=members, filter="data")
                else:
                    tar.extractall(tmp, members=members)
        except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as e:
            raise ValueError(
                f"archive {archive} is not a readable gzipped tar ({e}): delete it "
                "and download it again"
            ) from e
        for split in SPLITS:
            for folder in FOLDERS:
                if not (tmp / FOLDER_NAME / split / folder).is_dir():
                    raise ValueError(
                        f"archive {archive} has no folder "
                        f"{FOLDER_NAME}/{split}/{folder}: expected the IMDb archive "
                        f"{ARCHIVE_NAME} from {IMDB_URL}"
                    )
        if not target.exists():  # else another process finished first
            os.replace(tmp / FOLDER_NAME, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def fetch_imdb(
    root=None,
    download: bool = True,
    url: str = IMDB_URL,
    progress: bool = True,
    sha256=IMDB_SHA256,
) -> Path:
    """The extracted folder ``aclImdb`` in the cache, downloaded and extracted if
    missing.

    Parameters
    ----------
    root : the cache folder; default :func:`data_root` (``$RNNLAB_DATA`` or
        ``~/.cache/rnnlab``)
    download : bool: download the archive if it is not in the cache
    url : str: where the archive is (any URL urllib opens, ``file://`` included)
    progress : bool: show a progress bar while downloading
    sha256 : str or None: the archive's expected SHA-256, None for no check;
        checked on download and on an archive found in the cache unextracted

    Raises
    ------
    FileNotFoundError
        If neither the folder nor the archive is in the cache and ``download`` is
        false.
    """
    _check_sha256(sha256)
    root = data_root(root)
    target, archive = root / FOLDER_NAME, root / ARCHIVE_NAME
    if target.is_dir():
        return target
    if archive.is_file():
        if sha256 is not None:
            got = _file_sha256(archive)
            if got != sha256.lower():
                raise _checksum_error(
                    f"{archive} (delete it to download it again)", got, sha256
                )
    elif download:
        download_file(url, archive, sha256=sha256, progress=progress)
    else:
        raise FileNotFoundError(
            f"the IMDb reviews are not in the cache folder {root}: looked for "
            f"{target} and {archive}. Pass download=True to download them (about "
            f"80 MiB from {url}), or copy {ARCHIVE_NAME} there by hand, or point "
            f"root= or ${ENV_VAR} at a folder that has it"
        )
    return extract(archive, root)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_imdb(folder, split: str = "train") -> ReviewCorpus:
    """The reviews of one split of an extracted ``aclImdb`` folder (module notes).

    Parameters
    ----------
    folder : the folder ``aclImdb`` (holding ``train/`` and ``test/``)
    split : ``"train"`` or ``"test"``
    """
    _check_split(split)
    folder = Path(folder)
    texts, labels, ratings, ids = [], [], [], []
    for label, name in enumerate(FOLDERS):
        sub = folder / split / name
        if not sub.is_dir():
            raise FileNotFoundError(
                f"{sub} is missing: expected an extracted {ARCHIVE_NAME} (delete "
                f"{folder} to have load_imdb extract it again)"
            )
        files = []
        for path in sub.iterdir():
            match = _NAME_RE.fullmatch(path.name)
            if match is None:
                if path.suffix == ".txt":
                    raise ValueError(
                        f"{path}: expected a file name {{id}}_{{rating}}.txt"
                    )
                continue
            files.append((int(match[1]), int(match[2]), path))
        for review_id, rating, path in sorted(files):
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"{path} is not UTF-8 ({e})") from None
            texts.append(clean_review(text))
            labels.append(label)
            ratings.append(rating)
            ids.append(review_id)
    return ReviewCorpus(
        text=texts,
        label=np.array(labels, dtype=np.int64),
        rating=np.array(ratings, dtype=np.int64),
        review_id=np.array(ids, dtype=np.int64),
        split=split,
        stats={"folder": str(folder / split)},
    )


def load_imdb(
    split: str = "train",
    root=None,
    download: bool = True,
    url: str = IMDB_URL,
    progress: bool = True,
    sha256=IMDB_SHA256,
) -> ReviewCorpus:
    """The IMDb reviews of one split, downloaded and cached on first use.

    25,000 reviews per split in the real archive, 12,500 of each label, negatives
    first, each label in increasing review id; ``<br />`` tags become spaces
    (module notes).

    Parameters
    ----------
    split : ``"train"`` or ``"test"``
    root : the cache folder; default ``$RNNLAB_DATA`` if set, else
        ``~/.cache/rnnlab``
    download : bool: download the archive (about 80 MiB) if it is not in the cache;
        if false and it is not there, FileNotFoundError says where it looked
    url : str: where the archive is; any URL urllib opens, ``file://`` included
    progress : bool: show a progress bar while downloading
    sha256 : str or None: the archive's expected SHA-256, default
        :data:`IMDB_SHA256`; None skips the check

    Examples
    --------
    >>> train = load_imdb("train")  # doctest: +SKIP
    >>> train.counts()  # doctest: +SKIP
    {'negative': 12500, 'positive': 12500}
    """
    _check_split(split)
    folder = fetch_imdb(
        root=root, download=download, url=url, progress=progress, sha256=sha256
    )
    return read_imdb(folder, split)
