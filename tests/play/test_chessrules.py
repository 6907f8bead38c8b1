import chess
import pytest

from zeroforge.play.chessrules import Adjudication, Ending, rules_ending


def board_after(moves: str, fen: str = chess.STARTING_FEN) -> chess.Board:
    board = chess.Board(fen)
    for move in moves.split():
        board.push_uci(move)
    return board


def test_the_rules_end_games():
    mate = board_after("f2f3 e7e5 g2g4 d8h4")  # fool's mate
    assert rules_ending(mate) == Ending("0-1", "checkmate")
    assert rules_ending(mate).for_side(chess.WHITE) == -1
    assert rules_ending(mate).for_side(chess.BLACK) == 1
    assert rules_ending(chess.Board("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")) == Ending(
        "1/2-1/2", "stalemate"
    )
    assert rules_ending(chess.Board("8/8/4k3/8/8/3NK3/8/8 w - - 0 1")).reason == (
        "insufficient_material"
    )
    assert rules_ending(chess.Board("8/8/4k3/8/8/3RK3/8/8 w - - 100 80")).reason == "fifty_moves"
    assert rules_ending(chess.Board("8/8/4k3/8/8/3RK3/8/8 w - - 99 80")) is None
    # mate on the hundredth half-move still wins
    assert rules_ending(chess.Board("7k/6Q1/6K1/8/8/8/8/8 b - - 100 90")).reason == "checkmate"
    shuffle = "g1f3 g8f6 f3g1 f6g8 g1f3 g8f6 f3g1 f6g8"
    assert rules_ending(board_after(shuffle[:-5])) is None
    assert rules_ending(board_after(shuffle)) == Ending("1/2-1/2", "repetition")
    assert Ending("1/2-1/2", "repetition").for_side(chess.WHITE) == 0


def test_score_adjudication():
    rules = Adjudication(
        resign_score=500, resign_plies=3, draw_score=10, draw_plies=4, draw_min_ply=2, max_plies=50
    )
    board = chess.Board()
    tracker = rules.tracker()
    endings = []
    # white is winning (+600 for white to move, -600 for black to move), broken once by black
    for score in (600, -600, 100, -600, 600, -600):
        endings.append(tracker.add(board, score))
        board.push(next(iter(board.legal_moves)))
    assert endings[:5] == [None] * 5
    assert endings[5] == Ending("1-0", "resign_score")
    tracker = rules.tracker()
    board = chess.Board()
    endings = []
    for score in (0, 5, -5, 10, 11, 0, 0, 0, 0):
        endings.append(tracker.add(board, score))
        board.push(next(iter(board.legal_moves)))
    # ply 0 and 1 are before draw_min_ply; the run restarts after 11
    assert endings.index(Ending("1/2-1/2", "draw_score")) == 8
    assert tracker.cap(49) is None and tracker.cap(50) == Ending("1/2-1/2", "max_plies")
    assert Adjudication().tracker().add(board, 30000) is None  # both rules off by default
    with pytest.raises(ValueError):
        Adjudication(resign_score=0)
