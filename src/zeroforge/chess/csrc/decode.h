/* Training records decoded from Stockfish's data formats, with their HalfKAv2_hm features.
 * The layouts of the formats are documented in zeroforge/formats/{binpack,sfbin,plain}.py;
 * the record layout here is mirrored by RECORD_DTYPE in zeroforge/data/chess_decoder.py. */
#ifndef ZF_DECODE_H
#define ZF_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define MAX_ACTIVE 32
#define FLAG_IN_CHECK 1
#define FLAG_CAPTURE 2 /* the move takes a piece standing on its destination (not en passant) */

typedef struct {
    int16_t us[MAX_ACTIVE];   /* side to move's active features, -1 after the last */
    int16_t them[MAX_ACTIVE]; /* the other side's */
    int16_t score;
    uint16_t ply;
    uint16_t move; /* from | to << 6 | promotion type (1 knight .. 4 queen) << 12; castling as
                      king to g/c */
    int8_t result;
    uint8_t side; /* 0 white, 1 black to move */
    uint8_t pieces;
    uint8_t flags;
    uint8_t pad[6];
} Record;

typedef struct {
    Record *records;   /* the caller's buffer of `capacity` records */
    size_t count, capacity;
    const char *error; /* static message, NULL if all went well */
    size_t error_at;   /* byte offset (binpack: of the bad chain) or record index (bin) */
    int error_ply;     /* binpack: the ply of the chain that failed (0 = its stem) */
} Output;

/* Whole chains from data[offset:size] while the next chain fits the records left in `out`, or
 * until the data ends; returns the offset after the last complete chain (on error: of the bad
 * chain). Room for 65,536 records holds any chain. */
size_t decode_binpack_chains(const uint8_t *data, size_t size, size_t offset, Output *out);
/* `count` 40-byte .bin records (out has room for them); stops at the first bad one
 * (out->error_at = its index) */
void decode_bin_records(const uint8_t *data, size_t count, Output *out);
/* one record from a FEN, a UCI move and the numbers (.plain); NULL or a message */
const char *decode_fen_record(const char *fen, const char *uci, int score, int ply, int result,
                              Output *out);

#endif
