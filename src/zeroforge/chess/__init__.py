"""Chess for the Stockfish NNUE side, on top of python-chess (the sibling of `zeroforge.go`):
positions, moves and the network's input features (features.py), the NNUE architectures' sizes
(nnue_arch.py), training records (records.py) and Stockfish's move conventions (moves.py); file
formats live in `formats/`, their decoding into training records in `data/chess_decoder.py`."""
