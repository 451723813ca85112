"""Piano rolls from MusicXML, the Bach chorales, and hearing rolls."""

import math
import sys
import zipfile
from fractions import Fraction

import numpy as np
import pytest

from rnnlab.course.music import notes_of, roll_to_audio, roll_to_midi
from rnnlab.data.pianoroll import (
    SPLITS,
    chorale_paths,
    is_voice,
    key_shift,
    load_chorales,
    read_musicxml,
)

# Two parts. At divisions 2 (a quarter is 2) the soprano has C5, the chord E5+G5, a
# rest, a grace note, then D5 tied into the next measure; after a <backup> a second
# voice holds A4, skips a quarter with <forward> and plays F#4. In measure 2, at
# divisions 4, the tie ends, then Bb4 (an eighth), two sixteenths C5 D5 and G4. The
# bass, at divisions 1, holds C3, then a drum note (<unpitched>) and E3.
SCORE = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <part-list>
    <score-part id="P1"><part-name>Soprano</part-name></score-part>
    <score-part id="P2"><part-name>Bass</part-name></score-part>
  </part-list>
  <part id="P1">
    <measure number="1">
      <attributes>
        <divisions>2</divisions><key><fifths>1</fifths><mode>major</mode></key>
        <time><beats>4</beats><beat-type>4</beat-type></time>
      </attributes>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration>
        <voice>1</voice></note>
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>2</duration>
        <voice>1</voice></note>
      <note><chord/><pitch><step>G</step><octave>5</octave></pitch>
        <duration>2</duration><voice>1</voice></note>
      <note><rest/><duration>2</duration><voice>1</voice></note>
      <note><grace/><pitch><step>A</step><octave>5</octave></pitch><voice>1</voice>
      </note>
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>2</duration>
        <tie type="start"/><voice>1</voice></note>
      <backup><duration>8</duration></backup>
      <note><pitch><step>A</step><octave>4</octave></pitch><duration>4</duration>
        <voice>2</voice></note>
      <forward><duration>2</duration></forward>
      <note><pitch><step>F</step><alter>1</alter><octave>4</octave></pitch>
        <duration>2</duration><voice>2</voice></note>
    </measure>
    <measure number="2">
      <attributes><divisions>4</divisions></attributes>
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>4</duration>
        <tie type="stop"/></note>
      <note><pitch><step>B</step><alter>-1</alter><octave>4</octave></pitch>
        <duration>2</duration></note>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration>
      </note>
      <note><pitch><step>D</step><octave>5</octave></pitch><duration>1</duration>
      </note>
      <note><pitch><step>G</step><octave>4</octave></pitch><duration>8</duration>
      </note>
    </measure>
  </part>
  <part id="P2">
    <measure number="1">
      <attributes><divisions>1</divisions></attributes>
      <note><pitch><step>C</step><octave>3</octave></pitch><duration>4</duration>
      </note>
    </measure>
    <measure number="2">
      <note><unpitched><display-step>E</display-step>
        <display-octave>4</display-octave></unpitched><duration>2</duration></note>
      <note><pitch><step>E</step><octave>3</octave></pitch><duration>2</duration>
      </note>
    </measure>
  </part>
</score-partwise>
"""
# MIDI pitch -> the frames it sounds in, worked out by hand.
EIGHTHS = {  # step 0.5: 16 frames
    72: [0, 1, 11],  # C5; the sixteenth at 5.5-5.75 rounds to frame 11 (11 to 11.5)
    76: [2, 3],  # E5 and G5: the chord
    79: [2, 3],
    74: [6, 7, 8, 9, 12],  # D5 tied over the bar; the sixteenth 11.5-12 -> frame 12
    69: [0, 1, 2, 3],  # A4, voice 2
    66: [6, 7],  # F#4 after the <forward>
    70: [10],  # Bb4
    67: [12, 13, 14, 15],  # G4
    48: [0, 1, 2, 3, 4, 5, 6, 7],  # C3 in the bass
    52: [12, 13, 14, 15],  # E3 after the drum note
}
QUARTERS = {  # step 1: 8 frames
    72: [0, 6],
    76: [1],
    79: [1],
    74: [3, 4, 6],
    69: [0, 1],
    66: [3],
    70: [5],  # 5 to 5.5: frames 5 to round(5.5) - 1 = 5
    67: [6, 7],
    48: [0, 1, 2, 3],
    52: [6, 7],
}


def expected(frames_of: dict, T: int) -> np.ndarray:
    roll = np.zeros((T, 88), dtype=bool)
    for pitch, frames in frames_of.items():
        roll[frames, pitch - 21] = True
    return roll


def write_score(tmp_path, text: str, name: str = "score.xml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def write_mxl(path, text: str, container: bool = True):
    with zipfile.ZipFile(path, "w") as z:
        if container:
            z.writestr(
                "META-INF/container.xml",
                '<container><rootfiles><rootfile full-path="music/score.musicxml"/>'
                "</rootfiles></container>",
            )
            z.writestr("aaa-decoy.xml", "<not-music/>")  # listed first, not the root
        z.writestr("music/score.musicxml", text)
    return path


def measures(*bodies: str, divisions: int = 1) -> str:
    """A one-part 4/4 score with these measures."""
    attributes = (
        f"<attributes><divisions>{divisions}</divisions>"
        "<time><beats>4</beats><beat-type>4</beat-type></time></attributes>"
    )
    ms = "".join(
        f'<measure number="{i}">{attributes if i == 0 else ""}{body}</measure>'
        for i, body in enumerate(bodies)
    )
    return (
        '<score-partwise><part-list><score-part id="P1"/></part-list>'
        f'<part id="P1">{ms}</part></score-partwise>'
    )


def note(step: str, octave: int, duration: int) -> str:
    return (
        f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch>"
        f"<duration>{duration}</duration></note>"
    )


# ---------------------------------------------------------------- read_musicxml


def test_plain_musicxml_gives_the_roll_worked_out_by_hand(tmp_path):
    path = write_score(tmp_path, SCORE)
    roll = read_musicxml(path)
    assert roll.dtype == bool and roll.shape == (16, 88)
    np.testing.assert_array_equal(roll, expected(EIGHTHS, 16))
    np.testing.assert_array_equal(read_musicxml(path, 1), expected(QUARTERS, 8))
    np.testing.assert_array_equal(
        read_musicxml(path, Fraction(1, 2)), expected(EIGHTHS, 16)
    )


def test_compressed_mxl_reads_the_root_file_named_by_the_container(tmp_path):
    want = expected(EIGHTHS, 16)
    with_container = write_mxl(tmp_path / "a.mxl", SCORE)
    np.testing.assert_array_equal(read_musicxml(with_container), want)
    bare = write_mxl(tmp_path / "b.mxl", SCORE, container=False)
    np.testing.assert_array_equal(read_musicxml(str(bare)), want)


def test_parts_can_be_chosen_by_name(tmp_path):
    path = write_score(tmp_path, SCORE)
    bass = read_musicxml(path, parts=lambda name: name == "Bass")
    assert sorted(set(np.nonzero(bass)[1] + 21)) == [48, 52]
    assert bass.shape == (16, 88)
    assert is_voice("Soprano Oboe 1 Violin1") and is_voice("Bass")
    assert not is_voice("Trumpet 1") and not is_voice("Continuo")
    assert not is_voice("")


def test_a_pickup_starts_at_zero_and_an_empty_measure_lasts_a_bar(tmp_path):
    # a one-quarter pickup, an empty 4/4 measure, then a half note
    text = measures(note("C", 4, 1), "", note("D", 4, 2))
    roll = read_musicxml(write_score(tmp_path, text), step=1)
    assert roll.shape == (7, 88)
    assert np.nonzero(roll[:, 60 - 21])[0].tolist() == [0]
    assert np.nonzero(roll[:, 62 - 21])[0].tolist() == [5, 6]


def test_a_forward_that_closes_the_last_measure_adds_no_time(tmp_path):
    text = measures(note("C", 4, 3) + "<forward><duration>1</duration></forward>")
    assert read_musicxml(write_score(tmp_path, text), step=1).shape == (3, 88)


def test_a_note_shorter_than_a_frame_still_sounds_in_one_frame(tmp_path):
    # divisions 8: a 32nd note (1) from 0 to 1/8, then a quarter from 1/8 to 9/8
    text = measures(note("C", 4, 1) + note("E", 4, 8), divisions=8)
    roll = read_musicxml(write_score(tmp_path, text), step=1)
    assert roll.shape == (1, 88)  # round(9/8) frames
    assert roll[0, 60 - 21] and roll[0, 64 - 21]


# ------------------------------------------------------------------- bad input


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.mxl"
    with pytest.raises(FileNotFoundError, match="nope.mxl"):
        read_musicxml(missing)


def test_a_score_without_pitched_notes_is_empty(tmp_path):
    path = write_score(tmp_path, measures("<note><rest/><duration>4</duration></note>"))
    with pytest.raises(ValueError, match=r"empty score: .*score\.xml"):
        read_musicxml(path)
    with pytest.raises(ValueError, match="empty score"):
        read_musicxml(write_score(tmp_path, SCORE), parts=lambda name: False)


@pytest.mark.parametrize("step", [0, -0.5, float("nan"), float("inf")])
def test_step_must_be_positive(tmp_path, step):
    with pytest.raises(ValueError, match="step must be a positive number"):
        read_musicxml(write_score(tmp_path, SCORE), step=step)


@pytest.mark.parametrize("step", ["0.5", None, True])
def test_step_must_be_a_number(tmp_path, step):
    with pytest.raises(TypeError, match="step must be a number"):
        read_musicxml(write_score(tmp_path, SCORE), step=step)


def test_parts_must_be_a_function(tmp_path):
    with pytest.raises(TypeError, match="parts must be None or a function"):
        read_musicxml(write_score(tmp_path, SCORE), parts=["Bass"])


@pytest.mark.parametrize(
    "step, alter, octave, name, midi",
    [("D", 0, 8, "D8", 110), ("A", -1, 0, "Ab0", 20), ("C", 1, 8, "C#8", 109)],
)
def test_a_pitch_outside_the_keyboard_is_named(
    tmp_path, step, alter, octave, name, midi
):
    pitch = f"<pitch><step>{step}</step><alter>{alter}</alter><octave>{octave}</octave>"
    path = write_score(
        tmp_path, measures(f"<note>{pitch}</pitch><duration>1</duration></note>")
    )
    with pytest.raises(ValueError, match=rf"score\.xml: pitch {name} \(MIDI {midi}\)"):
        read_musicxml(path)


def test_files_that_are_not_partwise_musicxml(tmp_path):
    with pytest.raises(ValueError, match="expected a <score-partwise>.*timewise"):
        read_musicxml(write_score(tmp_path, "<score-timewise/>"))
    with pytest.raises(ValueError, match="not a readable MusicXML file"):
        read_musicxml(write_score(tmp_path, "<score-partwise><oops></score-partwise>"))
    with pytest.raises(ValueError, match="no MusicXML file inside"):
        with zipfile.ZipFile(tmp_path / "empty.mxl", "w") as z:
            z.writestr("readme.txt", "nothing here")
        read_musicxml(tmp_path / "empty.mxl")
    bad_pitch = measures(
        "<note><pitch><step>H</step><octave>4</octave></pitch>"
        "<duration>1</duration></note>"
    )
    with pytest.raises(ValueError, match="needs a step A-G"):
        read_musicxml(write_score(tmp_path, bad_pitch))


# ------------------------------------------------------- the chorales and music21


def roll_from_music21(score, step):
    """The same rounding rule applied to music21's notes (grace notes dropped)."""

    def frame(x):  # round half up
        return math.floor(Fraction(x) / Fraction(step) + Fraction(1, 2))

    spans = []
    for n in score.flatten().notes:
        if n.duration.isGrace:
            continue
        a, b = frame(n.offset), frame(Fraction(n.offset) + Fraction(n.quarterLength))
        spans += [(a, max(b, a + 1), p.midi - 21) for p in n.pitches]
    roll = np.zeros((max(frame(score.highestTime), *(b for _, b, _ in spans)), 88))
    for a, b, k in spans:
        roll[a:b, k] = 1
    return roll.astype(bool)


# the first two chorales, and the files with divisions changes (bwv281, bwv190.7),
# grace notes (bwv299), chords and instruments (bwv248.9-1), <backup> (bwv248.23-2)
# and an incomplete last measure closed with <forward> (bwv244.10, bwv190.7)
CROSS_CHECKED = [
    "bach/bwv269",
    "bach/bwv347",
    "bach/bwv281",
    "bach/bwv299",
    "bach/bwv248.9-1",
    "bach/bwv248.23-2",
    "bach/bwv244.10",
    "bach/bwv190.7",
]


@pytest.fixture(scope="module")
def paths():
    pytest.importorskip("music21")
    return dict(chorale_paths())


@pytest.mark.parametrize("name", CROSS_CHECKED)
def test_chorales_read_as_music21_reads_them(paths, name):
    from music21 import converter

    score = converter.parse(paths[name])
    for step in (0.5, 0.25):
        ours = read_musicxml(paths[name], step)
        np.testing.assert_array_equal(ours, roll_from_music21(score, step))


def test_chorale_paths_follow_music21s_iterator(paths):
    from music21 import corpus

    listed = chorale_paths()
    names = list(corpus.chorales.Iterator(returnType="filename"))
    assert [n for n, _ in listed] == names and len(names) == 371
    assert all(p.is_file() and p.suffix in (".mxl", ".xml") for _, p in listed)
    # the exact file where the name has one, not music21's first substring match
    assert paths["bach/bwv277"].name == "bwv277.mxl"  # music21 parses a .krn
    assert paths["bach/bwv112.5"].name == "bwv112.5.mxl"  # not bwv112.5-sc.mxl
    assert paths["bach/bwv69.6"].name == "bwv69.6.xml"  # not bwv69.6-a.mxl
    assert paths["bach/bwv18.5-l"].name == "bwv18.5-lz.mxl"  # music21's only match


def test_chorale_paths_need_music21(monkeypatch):
    monkeypatch.setitem(sys.modules, "music21", None)
    with pytest.raises(ImportError, match=r"pip install music21 .*rnnlab\[book\]"):
        chorale_paths()


@pytest.fixture(scope="module")
def chorales():
    pytest.importorskip("music21")
    return load_chorales()


def test_load_chorales_with_a_fixed_disjoint_split(chorales):
    c = chorales
    assert len(c) == len(c.names) == len(c.rolls) == 371
    assert all(r.dtype == bool and r.ndim == 2 and r.shape[1] == 88 for r in c.rolls)
    assert set(c.split) == set(SPLITS)
    parts = [c.subset(s) for s in SPLITS]
    assert sum(len(p) for p in parts) == 371
    names = [set(p.names) for p in parts]  # a chorale printed twice stays together
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert [len(p) for p in parts] == [242, 56, 73]
    again = load_chorales(step=0.25)
    np.testing.assert_array_equal(again.split, c.split)
    assert [r.shape[0] for r in again.rolls] == [2 * r.shape[0] for r in c.rolls]
    assert c.subset("test").names == [
        n for n, s in zip(c.names, c.split) if s == "test"
    ]
    with pytest.raises(ValueError, match="split must be one of"):
        c.subset("valid")


def test_voices_only_drops_the_instruments(chorales, paths):
    i = chorales.names.index("bach/bwv248.9-1")  # trumpets, timpani, continuo
    np.testing.assert_array_equal(
        chorales.rolls[i], read_musicxml(paths["bach/bwv248.9-1"], parts=is_voice)
    )
    assert (chorales.rolls[i] <= read_musicxml(paths["bach/bwv248.9-1"])).all()


def test_transpose_to_c_moves_each_chorale_by_one_interval(chorales):
    moved = load_chorales(transpose="C")
    assert moved.names == chorales.names
    np.testing.assert_array_equal(moved.split, chorales.split)
    np.testing.assert_array_equal(moved.fifths, chorales.fifths)
    assert not chorales.shift.any()
    for f, s, a, b in zip(moved.fifths, moved.shift, chorales.rolls, moved.rolls):
        assert s == key_shift(f) and -6 <= s <= 5 and (f * 7 + s) % 12 == 0
        assert a.shape == b.shape and a.sum() == b.sum()
        assert len(notes_of(a)) == len(notes_of(b))
        np.testing.assert_array_equal(np.roll(a, s, axis=1), b)  # nothing wraps


def test_key_shift_and_bad_transpose():
    assert [key_shift(f) for f in (0, 1, -1, 2, -3, 6, -6)] == [
        0,
        5,
        -5,
        -2,
        -3,
        -6,
        -6,
    ]
    with pytest.raises(ValueError, match="transpose must be None or 'C', got 'D'"):
        load_chorales(transpose="D")


# -------------------------------------------------------------- hearing rolls


def test_audio_has_the_length_of_the_roll_and_stays_in_range():
    rng = np.random.default_rng(0)
    roll = rng.random((12, 88)) < 0.1  # about nine notes at once: scaled down
    wave = roll_to_audio(roll, step_seconds=0.25, sample_rate=8000)
    assert wave.dtype == np.float32 and wave.shape == (12 * 0.25 * 8000,)
    assert np.abs(wave).max() <= 1 and np.abs(wave).max() > 0.5
    silent = roll_to_audio(np.zeros((5, 88), bool), 0.1, 16000)
    assert silent.shape == (8000,) and not silent.any()


def test_a_held_a4_peaks_at_440_hz_without_clicks():
    roll = np.zeros((8, 88), bool)
    roll[:, 69 - 21] = True  # one note held over eight frames
    wave = roll_to_audio(roll, step_seconds=0.25, sample_rate=16000)
    assert wave.shape == (32000,)
    spectrum = np.abs(np.fft.rfft(wave))
    freqs = np.fft.rfftfreq(len(wave), 1 / 16000)
    assert freqs[spectrum.argmax()] == pytest.approx(440, abs=1)
    # one sustained note: no dips at the frame boundaries, soft ends
    assert abs(wave[0]) < 0.01 and abs(wave[-1]) < 0.01
    middle = np.abs(wave[4000:-4000]).reshape(-1, 1000).max(axis=1)
    assert middle.min() > 0.9 * middle.max()


def test_notes_of_pairs_onsets_and_offsets():
    roll = np.zeros((6, 88), bool)
    roll[1:3, 0] = roll[4:6, 0] = roll[0:6, 87] = True
    assert notes_of(roll) == [(0, 1, 3), (0, 4, 6), (87, 0, 6)]


def test_roll_to_midi_writes_one_note_per_sustained_note(tmp_path):
    music21 = pytest.importorskip("music21")
    roll = np.zeros((6, 88), bool)
    roll[0:4, 60 - 21] = roll[2:3, 64 - 21] = roll[4:6, 67 - 21] = True
    path = roll_to_midi(roll, tmp_path / "out.mid", step=0.5, tempo=90)
    notes = music21.converter.parse(path).flatten().notes
    got = sorted((float(n.offset), float(n.quarterLength), n.pitch.midi) for n in notes)
    assert got == [(0.0, 2.0, 60), (1.0, 0.5, 64), (2.0, 1.0, 67)]


def test_bad_rolls_and_settings():
    with pytest.raises(
        ValueError, match=r"roll must have shape \(T, 88\), got \(4, 12\)"
    ):
        roll_to_audio(np.zeros((4, 12), bool))
    with pytest.raises(TypeError, match="roll must be a boolean array.*float64"):
        roll_to_audio(np.zeros((4, 88)))
    with pytest.raises(ValueError, match="step_seconds must be positive, got 0"):
        roll_to_audio(np.zeros((4, 88), bool), step_seconds=0)
    with pytest.raises(TypeError, match="sample_rate must be an integer"):
        roll_to_audio(np.zeros((4, 88), bool), sample_rate=8000.5)


def test_roll_to_midi_needs_music21(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "music21", None)
    with pytest.raises(ImportError, match="pip install music21"):
        roll_to_midi(np.zeros((2, 88), bool), tmp_path / "x.mid")


def test_music21_notebook_timer_is_cancelled(monkeypatch):
    """Imported in Jupyter, music21 arms a timer that switches matplotlib to
    interactive mode and retina PNG figures a second later; rnnlab cancels it."""
    pytest.importorskip("music21")
    import music21.ipython21 as ipython21

    from rnnlab.data.pianoroll import _music21

    class Timer:
        cancelled = False

        def cancel(self):
            self.cancelled = True

    timer = Timer()
    monkeypatch.setattr(ipython21, "t", timer, raising=False)
    with _music21() as (common, corpus):
        assert hasattr(corpus, "chorales")
    assert timer.cancelled


def test_sampling_keeps_what_sounds_at_each_frame_start(tmp_path):
    # four eighth notes C D E F at divisions 2, read at one frame per quarter: rounding
    # stacks D with E in frame 1; sampling keeps C (sounding at 0) and E (at 1)
    eighths = "".join(note(step, 4, 1) for step in "CDEF")
    text = measures(eighths + "<note><rest/><duration>4</duration></note>", divisions=2)
    path = write_score(tmp_path, text)
    c, d, e, f = (60, 62, 64, 65)
    rounded = read_musicxml(path, step=1)
    np.testing.assert_array_equal(
        rounded, expected({c: [0], d: [1], e: [1], f: [2]}, 4)
    )
    sampled = read_musicxml(path, step=1, sample=True)
    np.testing.assert_array_equal(sampled, expected({c: [0], e: [1]}, 4))
    # on a grid the notes fit, sampling and rounding agree
    np.testing.assert_array_equal(
        read_musicxml(path, step=0.5, sample=True), read_musicxml(path, step=0.5)
    )
    hand = write_score(tmp_path, SCORE, "hand.xml")
    np.testing.assert_array_equal(read_musicxml(hand, 0.25, sample=True),
                                  read_musicxml(hand, 0.25))  # fmt: skip
