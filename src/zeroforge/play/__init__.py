"""Playing: GTP client, engine specs, matches, ratings, self-play."""
