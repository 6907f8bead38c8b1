"""`zeroforge evaluate NET (--chunk FILE --record N | --moves "b Q16 w D4") [--json]`.

The raw network output for one position, with the semantics of leelaz's `heatmap` (identity
symmetry, no search): the softmax over all 362 outputs (pass last) and the winrate of the side
to move, (1 + value) / 2. The text output is laid out as leelaz prints it (rank 19 first,
x1000 truncated, 0 on occupied points); `--json` prints `{"policy": [362], "winrate": w}`
unmasked. A position from `--moves` has its history planes built as leelaz builds them: the
boards after each of the last 7 moves (passes included), empty before the first move.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from sgfmill import boards

from zeroforge.go.geometry import BOARD_SIZE, NUM_POINTS, PASS, move_to_vertex, vertex_to_move
from zeroforge.go.planes import BLACK, HISTORY, STORED_PLANES, WHITE, input_planes

COLOURS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}
PER_MILLE = 1000  # leelaz prints int(probability * 1000)


def parse_moves(text: str) -> list[tuple[int, int]]:
    """`"b Q16 w D4 b pass"` -> [(colour code, move index)]. ValueError on bad tokens."""
    tokens = text.split()
    if len(tokens) % 2:
        raise ValueError(f"moves must be colour/vertex pairs, got {len(tokens)} tokens")
    moves = []
    for colour, vertex in zip(tokens[::2], tokens[1::2], strict=True):
        if colour.lower() not in COLOURS:
            raise ValueError(f"not a GTP colour: {colour!r} (b, w, black, white)")
        moves.append((COLOURS[colour.lower()], vertex_to_move(vertex)))
    return moves


def _stones(board: boards.Board) -> dict[str, np.ndarray]:
    grid = np.array([[c or "" for c in row] for row in board.board]).reshape(NUM_POINTS)
    return {"b": grid == "b", "w": grid == "w"}


def position_from_moves(moves: list[tuple[int, int]]) -> tuple[np.ndarray, int]:
    """Play the moves (captures included) -> (stored planes uint8 [16,361], side to move).

    Colours need not alternate (GTP `play` allows that); the side to move is the opponent of
    the last mover, black on the empty board. Illegal moves raise ValueError."""
    board = boards.Board(BOARD_SIZE)
    history = [_stones(board)]  # boards after 0, 1, ..., n moves
    ko_point = None
    for number, (colour, move) in enumerate(moves, start=1):
        gtp_colour = "b" if colour == BLACK else "w"
        where = f"move {number} ({gtp_colour} {move_to_vertex(move)})"
        if move == PASS:
            ko_point = None
        else:
            point = divmod(move, BOARD_SIZE)
            if board.get(*point) is not None or point == ko_point:
                raise ValueError(f"{where} is on an occupied point or retakes a ko")
            ko_point = board.play(*point, gtp_colour)
            if board.get(*point) is None:
                raise ValueError(f"{where} is suicide")
        history.append(_stones(board))
    side = BLACK if not moves or moves[-1][0] == WHITE else WHITE
    own, opponent = ("b", "w") if side == BLACK else ("w", "b")
    planes = np.zeros((STORED_PLANES, NUM_POINTS), np.uint8)
    for h, past in enumerate(reversed(history[-HISTORY:])):
        planes[h] = past[own]
        planes[HISTORY + h] = past[opponent]
    return planes, side


def net_output(net, stored: np.ndarray, side_to_move: int) -> tuple[np.ndarray, float]:
    """(softmax policy float64 [362], winrate of the side to move) for one position, computed
    in float64 (on a copy of `net`) so the only rounding left in a comparison is the engine's."""
    import copy

    import torch

    planes = torch.from_numpy(input_planes(stored[None], np.array([side_to_move])))
    net = copy.deepcopy(net).double().eval()
    with torch.no_grad():
        logits, value = net(planes.double())
    policy = torch.softmax(logits[0], dim=0).numpy()
    return policy, float((1.0 + value[0]) / 2.0)


def heatmap_text(policy: np.ndarray, winrate: float, stored: np.ndarray) -> str:
    """leelaz's `heatmap` layout: per mille, truncated, 0 on occupied points, rank 19 first."""
    per_mille = np.trunc(policy.astype(np.float32) * np.float32(PER_MILLE)).astype(np.int64)
    occupied = (stored[0] | stored[HISTORY]).astype(bool)
    board = np.where(occupied, 0, per_mille[:NUM_POINTS]).reshape(BOARD_SIZE, BOARD_SIZE)
    lines = ["".join(f"{v:3d} " for v in row) for row in board[::-1]]
    lines += [f"pass: {per_mille[PASS]}", f"winrate: {winrate:f}"]
    return "\n".join(lines)


def _position(args) -> tuple[np.ndarray, int]:
    if args.moves is not None:
        return position_from_moves(parse_moves(args.moves))
    from zeroforge.formats.chunks import read_chunk

    positions = read_chunk(args.chunk).positions
    if not 0 <= args.record < len(positions):
        raise ValueError(f"{args.chunk}: record {args.record} outside 0..{len(positions) - 1}")
    return positions.planes[args.record], int(positions.side_to_move[args.record])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="zeroforge evaluate",
        description="Raw network output for one position, as leelaz's `heatmap` prints it.",
    )
    parser.add_argument("net", help="Leela Zero weights (.txt/.gz) or a zeroforge checkpoint")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--chunk", help="a training chunk (.gz or text)")
    source.add_argument("--moves", help='GTP moves from the empty board, e.g. "b Q16 w D4"')
    parser.add_argument("--record", type=int, default=0, help="record index in the chunk (0..)")
    parser.add_argument("--json", action="store_true", help='print {"policy", "winrate"}')
    args = parser.parse_args(argv)
    from zeroforge.convert.nets import load_any_net

    try:
        stored, side = _position(args)
        policy, winrate = net_output(load_any_net(args.net), stored, side)
    except (ValueError, OSError) as exc:
        print(f"zeroforge evaluate: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"policy": [float(p) for p in policy], "winrate": winrate}))
    else:
        print(heatmap_text(policy, winrate, stored))
    return 0
