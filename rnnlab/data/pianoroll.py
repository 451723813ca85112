"""Piano rolls from MusicXML, and the Bach chorales of music21's corpus.

A piano roll is a boolean array of shape ``(T, 88)``: frame ``t`` covers the quarter
notes ``[t * step, (t + 1) * step)`` and column ``k`` is the key of MIDI pitch
``21 + k`` (A0 to C8). It records which keys sound, not where notes start: a held or
tied note is simply on in consecutive frames, as in the JSB Chorales benchmark of
Boulanger-Lewandowski et al. (2012).

* :func:`read_musicxml` reads a ``.mxl`` (compressed) or ``.xml``/``.musicxml``
  (plain) MusicXML file with the standard library alone, a few milliseconds a
  chorale; it agrees with music21's parse on all 350 chorale files.
* :func:`chorale_paths` lists the 371 chorales of Riemenschneider's collection in
  music21's corpus, and :func:`load_chorales` reads them all (a few seconds) with a
  fixed split by chorale. music21 is used to find the files, never to parse them.

The data. We ship none: the files come with the user's music21 (BSD-3-Clause code).
Bach's music is in the public domain, the encodings are not ours: music21's
``corpus/license.txt`` warns that "some encodings included in the corpus may not be
used for commercial uses or have other restrictions: please see the licenses
embedded in individual compositions". None of the 350 MusicXML files read here
embeds a licence; 343 credit "PDF (c) 2004 Margaret Greentree" (jsbchorales.net),
"used by permission". The Humdrum ``bwv277/281/366.krn``, which we do not read, are
"Copyright 1994, Center for Computer Assisted Research in the Humanities".
"""

from __future__ import annotations

import math
import numbers
import sys
from contextlib import contextmanager
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .splits import SPLITS, hash_split

LOWEST = 21  # MIDI pitch of column 0 (A0)
KEYS = 88  # columns: A0 (21) to C8 (108)
_STEP_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_MUSICXML = (".mxl", ".xml", ".musicxml")
VOICES = ("soprano", "alto", "tenor", "bass")


def _check_step(step) -> Fraction:
    """``step`` as an exact fraction of a quarter note (``1/3`` stays a third)."""
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise TypeError(f"step must be a number of quarter notes, got {step!r}")
    if not (step > 0 and math.isfinite(step)):
        raise ValueError(f"step must be a positive number of quarter notes, got {step}")
    if not isinstance(step, numbers.Rational):
        step = Fraction(float(step)).limit_denominator(1 << 16)
    return Fraction(step)


def _xml_bytes(path: Path) -> bytes:
    """The MusicXML document of a plain file, or the root file of a ``.mxl`` archive."""
    if not zipfile.is_zipfile(path):
        return path.read_bytes()
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        inner = None
        if "META-INF/container.xml" in names:
            container = ET.fromstring(z.read("META-INF/container.xml"))
            rootfile = container.find(".//rootfile")
            if rootfile is not None and rootfile.get("full-path") in names:
                inner = rootfile.get("full-path")
        if inner is None:  # no container: the first MusicXML file inside
            xml = [n for n in names if n.endswith((".xml", ".musicxml"))]
            inner = next((n for n in xml if not n.startswith("META-INF/")), None)
        if inner is None:
            raise ValueError(f"{path}: a .mxl archive with no MusicXML file inside")
        return z.read(inner)


def _score(path) -> tuple[ET.Element, Path]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no MusicXML file at {path}")
    try:
        root = ET.fromstring(_xml_bytes(path))
    except (ET.ParseError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a readable MusicXML file ({e})") from e
    if root.tag != "score-partwise":  # timewise scores are rare: convert them
        raise ValueError(
            f"{path}: expected a <score-partwise> MusicXML score, got <{root.tag}>"
        )
    return root, path


def _duration(el: ET.Element, scale):
    """An element's ``<duration>`` in ticks (``scale`` ticks per division)."""
    text = el.findtext("duration")
    if not text:
        return 0
    try:
        return int(text) * scale
    except ValueError:  # MusicXML allows decimal durations; rare
        return Fraction(text.strip()) * scale


def _read(path, step, parts=None, sample=False) -> tuple[np.ndarray, int]:
    """The roll of :func:`read_musicxml` and the first key signature's ``<fifths>``.

    Times are exact integers: ``ticks`` per quarter note is a common multiple of every
    ``<divisions>`` in the file, so a divisions change needs no rounding.
    """
    q = _check_step(step)
    root, path = _score(path)
    try:
        divisions = {int(d.text) for d in root.iter("divisions") if d.text}
    except ValueError as e:
        raise ValueError(f"{path}: <divisions> must be whole numbers ({e})") from e
    if any(d <= 0 for d in divisions):
        raise ValueError(f"{path}: <divisions> must be positive, got {divisions}")
    ticks = math.lcm(*divisions) if divisions else 1
    num, den = q.numerator * ticks, q.denominator  # one frame is num/den ticks

    def frame(x):  # round half up: floor(x / frame + 1/2)
        return (2 * x * den + num) // (2 * num)

    def first_sample(x):  # the first frame whose start is at or after x: ceil
        return -((-x * den) // num)

    if parts is not None:
        if not callable(parts):
            raise TypeError(
                f"parts must be None or a function of a part's name, got {parts!r}"
            )
        named = {
            p.get("id"): p.findtext("part-name", "") for p in root.iter("score-part")
        }
    fifths, notes, total = None, [], 0
    for part in root.iter("part"):
        if parts is not None and not parts(named.get(part.get("id"), "")):
            continue
        start = end = 0  # of the current measure, and of the part, in ticks
        scale, bar = ticks, 4 * ticks  # ticks per division; ticks per bar (4/4)
        for measure in part.iter("measure"):
            t = onset = high = 0  # cursor, last onset, furthest point reached
            sounded = None  # where this measure's notes and rests end
            for el in measure:
                tag = el.tag
                if tag == "note":
                    if el.find("grace") is not None:
                        continue  # grace notes take no time
                    d = _duration(el, scale)
                    if el.find("chord") is None:
                        onset, t = t, t + d
                    sounded = max(sounded or 0, onset + d)
                    high = max(high, sounded)
                    pitch = el.find("pitch")  # None for <rest/> and <unpitched>
                    if pitch is None or d <= 0 or el.find("cue") is not None:
                        continue
                    letter = pitch.findtext("step", "").strip().upper()
                    try:
                        alter = round(float(pitch.findtext("alter") or 0))
                        octave = int(pitch.findtext("octave", ""))
                        midi = 12 * (octave + 1) + _STEP_SEMITONES[letter] + alter
                    except (KeyError, ValueError):
                        raise ValueError(
                            f"{path}: a <pitch> needs a step A-G and a whole octave, "
                            f"got {ET.tostring(pitch, encoding='unicode')!r}"
                        ) from None
                    if not LOWEST <= midi < LOWEST + KEYS:
                        name = letter + ("#" * alter or "b" * -alter) + str(octave)
                        raise ValueError(
                            f"{path}: pitch {name} (MIDI {midi}) is outside the 88 "
                            "keys A0-C8 (MIDI 21-108)"
                        )
                    notes.append((start + onset, start + onset + d, midi - LOWEST))
                elif tag == "backup":
                    t = max(t - _duration(el, scale), 0)
                elif tag == "forward":
                    t += _duration(el, scale)
                    high = max(high, t)
                elif tag == "attributes":
                    if el.findtext("divisions"):
                        scale = ticks // int(el.findtext("divisions"))
                    beats, beat_type = (
                        el.findtext("time/beats"),
                        el.findtext("time/beat-type"),
                    )
                    if beats and beat_type:
                        b = sum(Fraction(x) for x in beats.split("+"))
                        bar = b * 4 * ticks / int(beat_type)
                    if fifths is None and el.findtext("key/fifths"):
                        fifths = int(el.findtext("key/fifths"))
            # The next measure starts where this one's notes end (a pickup is short);
            # a measure with nothing in it lasts a bar of its time signature. The
            # part ends with its last note or rest: a <forward> that closes the last
            # measure (Finale writes one after an incomplete bar) adds no time.
            end = start + (sounded if sounded is not None else high or bar)
            start += high or bar
        total = max(total, end)
    if not notes:
        raise ValueError(f"empty score: {path} has no pitched notes")
    if sample:  # what sounds at each frame's start: [a, b) holds t * step
        bounds = [(first_sample(a), first_sample(b), k) for a, b, k in notes]
        T = max(first_sample(total), max(hi for _, hi, _ in bounds))
    else:  # every note, rounded to the grid, in one frame at least
        bounds = [(frame(a), max(frame(b), frame(a) + 1), k) for a, b, k in notes]
        T = max(frame(total), max(hi for _, hi, _ in bounds))
    roll = np.zeros((T, KEYS), dtype=bool)
    for lo, hi, k in bounds:
        roll[lo:hi, k] = True
    return roll, (fifths or 0)


def read_musicxml(path, step=0.5, *, parts=None, sample=False) -> np.ndarray:
    """The piano roll of a MusicXML score: its parts merged, one row per frame.

    A note from onset ``a`` to offset ``b`` (in quarter notes from the start of the
    score) is on in frames ``r(a / step)`` to ``r(b / step) - 1``, and in at least
    frame ``r(a / step)``, where ``r(x) = floor(x + 1/2)`` rounds halves up. The
    roll has ``T = r(D / step)`` frames for a score that lasts ``D`` quarter notes
    (one more where a final short note needs it). So every note is heard, and notes
    shorter than a frame can share one: with ``step=1``, two eighth notes of one
    voice sound together.

    With ``sample=True`` a frame holds instead what sounds at its start, as the JSB
    Chorales benchmark samples each beat: a note is on in frame ``t`` when
    ``a <= t * step < b``, and a note that starts and ends between two frame starts
    is not in the roll. ``T = ceil(D / step)``.

    Times come from the durations alone, as a performer reads the page once: a
    measure starts where the previous one's notes (or ``<forward>``) ended, so a
    pickup starts at time 0; repeats are not unrolled and first and second endings
    are read in turn; a measure with nothing in it lasts a bar of its time
    signature, and a part ends with its last note or rest (a ``<forward>`` closing
    the last measure, as Finale writes, adds no time). ``<backup>``,
    ``<forward>``, ``<chord/>``, voices and changes of ``<divisions>`` are followed
    exactly; grace notes take no time and are dropped; rests, ``<unpitched>`` and
    cue notes take time and do not sound; tied notes simply stay on. Pitches come
    from ``step``, ``alter`` (microtones rounded to semitones) and ``octave`` as
    written: the ``<transpose>`` of a transposing instrument is not applied (nor is
    it by music21). These rules give the rolls music21's notes give on all the
    chorales of :func:`chorale_paths`.

    Parameters
    ----------
    path : str or Path
        A ``.mxl`` archive (its root file is named by ``META-INF/container.xml``,
        else the first ``.xml``/``.musicxml`` inside) or a plain MusicXML file, in
        ``<score-partwise>`` form.
    step : float
        The frame length in quarter notes: 0.5 for eighth notes, 0.25 for sixteenths.
    parts : None or callable
        None reads every part; else ``parts(name)`` says whether to read the part
        whose ``<part-name>`` is ``name`` (``''`` where there is none).
    sample : bool
        Sample what sounds at each frame's start instead of rounding every note.

    Returns
    -------
    roll : array of bool, shape (T, 88)
        ``roll[t, k]`` is True when MIDI pitch ``21 + k`` sounds in frame ``t``.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If ``step`` is not positive, the file is not partwise MusicXML, the score
        has no pitched notes ("empty score"), or a pitch is outside A0-C8.
    """
    return _read(path, step, parts, sample)[0]


@contextmanager
def _music21():
    """music21's ``common`` and ``corpus``, without its notebook side effects.

    Imported in Jupyter, music21 starts a timer that loads its IPython extension a
    second later, which switches matplotlib to interactive mode and inline figures
    to retina PNG. The timer is cancelled, and both settings are put back as they
    were when the block ends.
    """
    mpl = sys.modules.get("matplotlib")
    interactive = mpl.is_interactive() if mpl is not None else None
    inline = sys.modules.get("matplotlib_inline.config")
    formats = set(inline.InlineBackend.instance().figure_formats) if inline else None
    try:
        from music21 import common, corpus
    except ImportError:
        raise ImportError(
            "the Bach chorales come with music21's corpus: pip install music21 "
            "(or pip install 'rnnlab[book]')"
        ) from None
    timer = getattr(sys.modules.get("music21.ipython21"), "t", None)
    if timer is not None and hasattr(timer, "cancel"):
        timer.cancel()
    try:
        yield common, corpus
    finally:
        if interactive is not None:
            sys.modules["matplotlib"].interactive(interactive)
        if formats is not None:
            backend = inline.InlineBackend.instance()
            if set(backend.figure_formats) != formats:
                backend.figure_formats = formats  # its observer resets the formatters


def chorale_paths() -> list[tuple[str, Path]]:
    """The Bach chorales of music21's corpus: ``(name, path)`` in Riemenschneider order.

    The 371 names of ``music21.corpus.chorales.Iterator(returnType='filename')``,
    such as ``'bach/bwv269'``, 350 different (Riemenschneider's collection prints
    some harmonizations again under other texts: 19 twice, bwv36.4-2 three times).
    A name's file is ``<name>.mxl`` or ``<name>.xml`` in the corpus where it
    exists, else the first MusicXML file ``music21.corpus.getWork`` finds (only for
    ``bach/bwv18.5-l``: ``bwv18.5-lz.mxl``). ``music21.corpus.parse`` takes the
    first of all the files whose names contain the name, which for six names is
    another file: the Humdrum ``.krn`` of bwv277, bwv281 and bwv366, the orchestral
    ``bwv112.5-sc.mxl`` and ``bwv190.7-inst.mxl``, and for ``bach/bwv69.6`` (R333)
    ``bwv69.6-a.mxl``, another chorale (R293).

    Raises
    ------
    ImportError
        If music21 is not installed.
    """
    paths: dict[str, Path] = {}
    out = []
    with _music21() as (common, corpus):
        folder = Path(common.getCorpusFilePath())
        for name in corpus.chorales.Iterator(returnType="filename"):
            if name not in paths:
                found = [folder / (name + s) for s in _MUSICXML]
                found = [p for p in found if p.is_file()] or corpus.getWork(
                    name, fileExtensions=_MUSICXML
                )
                paths[name] = Path(found[0] if isinstance(found, list) else found)
            out.append((name, paths[name]))
    return out


def key_shift(fifths: int) -> int:
    """Semitones, in -6..5, that move a key signature of ``fifths`` to none.

    The signature's major tonic is ``7 * fifths`` semitones above C (modulo 12), so
    the shift is ``-7 * fifths`` modulo 12, taken in ``-6..5`` (the nearer way,
    down for a tritone): C major and A minor stay, G major moves up a fourth to C,
    E minor (one sharp) up a fourth to A, F major down a fourth to C.
    """
    s = (-7 * int(fifths)) % 12
    return s - 12 if s > 5 else s


def _transpose(roll: np.ndarray, shift: int, name: str) -> np.ndarray:
    """``roll`` with every pitch moved ``shift`` semitones (none may leave the keys)."""
    keys = np.flatnonzero(roll.any(axis=0))
    if keys[0] + shift < 0 or keys[-1] + shift >= KEYS:
        raise ValueError(f"{name}: transposing by {shift} leaves the 88 keys")
    out = np.zeros_like(roll)
    out[:, max(shift, 0) : KEYS + min(shift, 0)] = roll[
        :, max(-shift, 0) : KEYS - max(shift, 0)
    ]
    return out


@dataclass
class Chorales:
    """Piano rolls of the Bach chorales, with a fixed split by chorale.

    Attributes
    ----------
    names : list of str, length M
        music21 corpus names (``'bach/bwv269'``), in Riemenschneider order.
    rolls : list of arrays of bool, each of shape (T_i, 88)
    split : array of str, shape (M,)
        ``'train'``, ``'val'`` or ``'test'``.
    fifths : array of int, shape (M,)
        The first key signature of each chorale, as written (sharps > 0).
    shift : array of int, shape (M,)
        Semitones each roll was transposed by (zeros unless ``transpose='C'``).
    step : float
        The frame length in quarter notes.
    """

    names: list
    rolls: list
    split: np.ndarray
    fifths: np.ndarray
    shift: np.ndarray
    step: float

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={np.sum(self.split == s)}" for s in SPLITS)
        return f"Chorales({len(self)} chorales, step={self.step}, {sizes})"

    def subset(self, split: str) -> "Chorales":
        """The chorales of one split, ``'train'``, ``'val'`` or ``'test'``."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        keep = np.flatnonzero(self.split == split)
        return Chorales(
            [self.names[i] for i in keep],
            [self.rolls[i] for i in keep],
            self.split[keep],
            self.fifths[keep],
            self.shift[keep],
            self.step,
        )


def is_voice(part_name: str) -> bool:
    """Whether a part sings: its name starts with Soprano, Alto, Tenor or Bass.

    So ``'Soprano Oboe 1 Violin1'`` (a voice doubled by instruments) is a voice, and
    ``'Trumpet 1'``, ``'Timpani'`` or ``'Continuo'`` are not.
    """
    words = part_name.split()
    return bool(words) and words[0].lower() in VOICES


def load_chorales(
    step=0.5, *, transpose=None, voices_only=True, sample=False
) -> Chorales:
    """All 371 chorales of :func:`chorale_paths` as piano rolls (:func:`read_musicxml`).

    The split is fixed by a hash of the name (:func:`~rnnlab.data.splits.hash_split`,
    20% validation, 20% test): it depends on no seed and no order, and the copies
    of a chorale printed again land in the same split. From music21 10.5:
    242 train, 56 val, 73 test (65/15/20%).

    Parameters
    ----------
    step : float
        The frame length in quarter notes.
    transpose : None or 'C'
        None keeps the written pitches. ``'C'`` moves every chorale by
        :func:`key_shift` of its first key signature, so the signature has no sharps
        or flats: major chorales end up in C major and minor ones in A minor (a
        minor chorale written with one flat fewer, the "Dorian" signature Bach often
        used, lands in D minor). Modulations inside a chorale are kept.
    voices_only : bool
        Read only the sung parts (:func:`is_voice`): 18 files also hold
        instruments (trumpets and timpani, horns, oboes, strings, continuo), some
        with lines of their own or interludes between the lines of the chorale.
    sample : bool
        Frames hold what sounds at their start (:func:`read_musicxml`): with
        ``step=1`` and ``transpose='C'``, the construction of the JSB Chorales
        benchmark (Boulanger-Lewandowski et al. 2012), which sampled each beat and
        transposed to C major or C minor (here: C major or A minor).

    Returns
    -------
    Chorales
    """
    if transpose not in (None, "C"):
        raise ValueError(f"transpose must be None or 'C', got {transpose!r}")
    q = _check_step(step)
    read: dict[Path, tuple[np.ndarray, int]] = {}
    names, rolls, fifths, shifts = [], [], [], []
    for name, path in chorale_paths():
        if path in read:  # a chorale printed again: the same notes, a new array
            roll, f = read[path][0].copy(), read[path][1]
        else:
            roll, f = read[path] = _read(
                path, q, is_voice if voices_only else None, sample
            )
        shift = key_shift(f) if transpose == "C" else 0
        names.append(name)
        rolls.append(_transpose(roll, shift, name) if shift else roll)
        fifths.append(f)
        shifts.append(shift)
    split = np.array([hash_split(n, 0.2, 0.2) for n in names])
    return Chorales(
        names, rolls, split, np.array(fifths), np.array(shifts), float(step)
    )
