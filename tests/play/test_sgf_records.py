import pytest

from zeroforge.formats.sgf import GameRecord, read_game, read_games, write_game
from zeroforge.go.geometry import PASS, vertex_to_move


def test_round_trip_with_pass_and_handicap(tmp_path):
    moves = [
        ("b", vertex_to_move("Q4")),
        ("w", PASS),
        ("b", vertex_to_move("A1")),
        ("w", vertex_to_move("T19")),
    ]
    game = GameRecord(
        moves=moves,
        black="net-a",
        white="gnugo-l1",
        komi=7.5,
        result="B+R",
        handicap_stones=[vertex_to_move("D4"), vertex_to_move("Q16")],
        comment="test game",
    )
    path = tmp_path / "g.sgf"
    write_game(path, game)
    text = path.read_text()
    for prop in ("PB[net-a]", "PW[gnugo-l1]", "KM[7.5]", "RE[B+R]", "HA[2]", "SZ[19]"):
        assert prop in text
    assert ";B[pp]" in text  # Q4: column p, row p counted from the top
    assert ";W[]" in text  # FF[4] pass
    assert read_game(path) == game
    assert not list(tmp_path.glob(".*tmp"))


def test_collection_and_no_result(tmp_path):
    path = tmp_path / "two.sgf"
    path.write_text("(;GM[1]SZ[19]KM[6.5]RE[W+3.5];B[dd];W[tt])(;GM[1]SZ[19];B[aa])")
    first, second = read_games(path)
    assert first.result == "W+3.5" and first.komi == 6.5
    assert first.moves == [("b", vertex_to_move("D16")), ("w", PASS)]
    assert second.result is None and second.moves == [("b", vertex_to_move("A19"))]


def test_bad_files_are_named(tmp_path):
    path = tmp_path / "bad.sgf"
    path.write_text("this is not sgf")
    with pytest.raises(ValueError, match="bad.sgf"):
        read_games(path)
    path.write_text("(;GM[1]SZ[19];B[zz])")
    with pytest.raises(ValueError, match="bad.sgf: game 1"):
        read_games(path)
    with pytest.raises(ValueError, match="only 19x19"):
        write_game(tmp_path / "x.sgf", GameRecord(moves=[], size=9))
