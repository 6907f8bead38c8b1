"""Networks to engine files and back: the layer above both `nn/` (the networks) and `formats/`
(the files' bytes and arrays), so neither imports the other (as lczero-training's `convert/`)."""
