"""Chess for the Stockfish NNUE side: positions, moves and the network's input features."""
