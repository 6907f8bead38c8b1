/* .binpack chains, .bin records and .plain fields -> Records (features included).
 * Every record is checked: a real position, a legal move of the right kind, score within
 * +-VALUE_NONE, result -1/0/1, ply within uint16. */
#include "decode.h"

#include <stdlib.h>
#include <string.h>

#define VALUE_NONE 32002
#define STEM_BYTES 32
#define SCORE_BLOCK_BITS 4
#define SFEN_BITS 256

static Record *next_record(Output *out) {
    if (out->count == out->capacity) return 0;
    return &out->records[out->count++];
}

static const char *check_values(int score, int ply, int result) {
    if (score < -VALUE_NONE || score > VALUE_NONE) return "score outside +-32002";
    if (ply < 0 || ply > 0xFFFF) return "ply outside [0, 65535]";
    if (result < -1 || result > 1) return "result is not 1, 0 or -1";
    return 0;
}

/* is `m` (its kind as encoded) a legal move of `pos` of exactly that kind? */
static const char *move_problem(const Position *pos, Move m) {
    int code = pos->piece[m.from];
    if (m.from == m.to) return "move from a square to itself";
    if (code < 0 || (code & 1) != pos->side) return "move of a piece the side to move lacks";
    if (m.kind != MOVE_PROMOTION && m.promo) return "promotion bits on a move that is no promotion";
    if (m.kind == MOVE_CASTLE)
        return (code >> 1) == KING && move_legal(pos, m) ? 0 : "illegal castling";
    int type = code >> 1;
    if (!(piece_targets(pos, m.from) & BIT(m.to))) return "illegal move";
    int en_passant = type == PAWN && m.to == pos->ep;
    int promotes = type == PAWN && (m.to >> 3) == (pos->side == WHITE ? 7 : 0);
    if (en_passant != (m.kind == MOVE_EN_PASSANT)) return "move encoded with the wrong kind";
    if (promotes != (m.kind == MOVE_PROMOTION)) return "move encoded with the wrong kind";
    if (!move_legal(pos, m)) return "illegal move (leaves the king in check)";
    return 0;
}

/* the record of `pos` and its move; `info` is king_info(pos) */
static const char *emit(const Position *pos, const KingInfo *info, Move m, int score, int ply,
                        int result, Output *out) {
    Record *r = next_record(out);
    if (!r) return "record buffer full";
    static const int16_t NONE[MAX_ACTIVE] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                             -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                             -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    memcpy(r->us, NONE, sizeof NONE); /* -1 after the last (fixed-size copies are quick) */
    memcpy(r->them, NONE, sizeof NONE);
    int n = both_features(pos, pos->side, r->us, r->them);
    r->score = (int16_t)score;
    r->ply = (uint16_t)ply;
    r->move = (uint16_t)(m.from | m.to << 6 | m.promo << 12);
    r->result = (int8_t)result;
    r->side = pos->side;
    r->pieces = (uint8_t)n;
    r->flags = (uint8_t)((info->checkers ? FLAG_IN_CHECK : 0) |
                         (m.kind != MOVE_CASTLE && pos->piece[m.to] >= 0 ? FLAG_CAPTURE : 0));
    memset(r->pad, 0, sizeof r->pad);
    return 0;
}

/* a checked record of a position and its move (stems, .bin, .plain) */
static const char *emit_checked(const Position *pos, Move m, int score, int ply, int result,
                                Output *out) {
    KingInfo info;
    const char *problem = check_values(score, ply, result);
    if (!problem) problem = move_problem(pos, m);
    if (problem) return problem;
    king_info(pos, &info);
    return emit(pos, &info, m, score, ply, result, out);
}

/* ---- .binpack ------------------------------------------------------------------------ */

static inline unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static int unzigzag(unsigned value) {
    value = ((value << 15) | (value >> 1)) & 0xFFFF;
    if (value & 0x8000) value ^= 0x7FFF;
    return (int16_t)value;
}

static int used_bits(unsigned count) { return count <= 1 ? 0 : 64 - __builtin_clzll(count - 1); }

typedef struct {
    const uint8_t *data;
    size_t bit, end_bit;
} Bits;

/* up to 8 bits, most significant first; -1 past the end */
static inline int take(Bits *bits, int count) {
    if (!count) return 0;
    if (bits->bit + count > bits->end_bit) return -1;
    size_t byte = bits->bit >> 3;
    int shift = bits->bit & 7;
    unsigned window = (unsigned)bits->data[byte] << 8;
    if (shift + count > 8) window |= bits->data[byte + 1];
    bits->bit += count;
    return (window >> (16 - shift - count)) & ((1u << count) - 1);
}

static const char *decode_stem(const uint8_t *s, Position *pos, Move *m, int *score, int *ply,
                               int *result) {
    position_clear(pos);
    u64 occ = 0;
    for (int i = 0; i < 8; i++) occ = occ << 8 | s[i];
    if (POPCOUNT(occ) > MAX_ACTIVE) return "more than 32 pieces";
    int side = WHITE, ep = NO_SQUARE, castling = 0;
    for (int i = 0; occ; i++, occ &= occ - 1) {
        int sq = LSB(occ), nibble = (s[8 + i / 2] >> (4 * (i & 1))) & 15;
        if (nibble < 12) {
            put_piece(pos, nibble, sq);
        } else if (nibble == 12) {
            if ((sq >> 3) != 3 && (sq >> 3) != 4) return "en passant pawn not on rank 4 or 5";
            int white = (sq >> 3) == 3;
            put_piece(pos, 2 * PAWN + !white, sq);
            ep = white ? sq - 8 : sq + 8;
        } else if (nibble == 13 || nibble == 14) {
            int color = nibble == 14, base = color ? 56 : 0;
            if (sq != base && sq != base + 7) return "castling rook not in a corner";
            put_piece(pos, 2 * ROOK + color, sq);
            castling |= (sq == base + 7 ? WHITE_OO : WHITE_OOO) << (2 * color);
        } else {
            put_piece(pos, 2 * KING + BLACK, sq);
            side = BLACK;
        }
    }
    pos->side = (uint8_t)side;
    const char *problem = position_problem(pos);
    if (problem) return problem;
    for (int i = 0; i < 4; i++) { /* a right needs its king at home (its rook is, as coded) */
        int color = i >= 2;
        if ((castling >> i & 1) && pos->piece[color ? 60 : 4] != 2 * KING + color)
            return "castling rights without the king on its square";
    }
    pos->castling = (uint8_t)castling;
    if (ep != NO_SQUARE) { /* the writer marks a pawn only when a legal capture exists */
        if ((ep >> 3) != (side == WHITE ? 5 : 2)) return "en passant square for the wrong side";
        if (pos->piece[ep] >= 0 || !en_passant_possible(pos, ep))
            return "en passant capture marked but not possible";
        pos->ep = (uint8_t)ep;
    }
    unsigned code = be16(s + 24);
    m->kind = (uint8_t)(code >> 14);
    m->from = (code >> 8) & 63;
    m->to = (code >> 2) & 63;
    m->promo = m->kind == MOVE_PROMOTION ? (uint8_t)(KNIGHT + (code & 3)) : (uint8_t)(code & 3);
    if (m->kind == MOVE_CASTLE) { /* king takes rook -> king to g/c */
        if (((m->to & 7) != 0 && (m->to & 7) != 7) || (m->to ^ m->from) >> 3)
            return "castling to a square that is no corner of the king's rank";
        m->to = (uint8_t)((m->to & 56) + ((m->to & 7) ? 6 : 2));
    }
    *score = unzigzag(be16(s + 26));
    unsigned ply_result = be16(s + 28);
    *ply = ply_result & 0x3FFF;
    *result = unzigzag(ply_result >> 14);
    pos->rule50 = (uint16_t)be16(s + 30);
    return 0;
}

/* the next move of the movetext (as nnue-pytorch enumerates candidate squares) */
static const char *decode_move(const Position *pos, Bits *bits, Move *m) {
    int us = pos->side;
    u64 ours = pos->color[us];
    int count = POPCOUNT(ours), index = take(bits, used_bits(count));
    if (index < 0) return "movetext runs past the end of its chunk";
    if (index >= count) return "piece index beyond the side to move's pieces";
    int from = nth_set_square(ours, index), type = pos->piece[from] >> 1;
    u64 targets = piece_targets(pos, from);
    count = POPCOUNT(targets);
    m->from = (uint8_t)from;
    m->promo = 0;
    m->kind = MOVE_NORMAL;
    if (type == PAWN && (from >> 3) == (us == WHITE ? 6 : 1)) {
        index = take(bits, used_bits(4 * count));
        if (index < 0) return "movetext runs past the end of its chunk";
        if (index / 4 >= count) return "move index beyond the piece's moves";
        m->to = (uint8_t)nth_set_square(targets, index / 4);
        m->promo = (uint8_t)(KNIGHT + index % 4);
        m->kind = MOVE_PROMOTION;
        return 0;
    }
    int castlings = 0, queen_side = 0;
    if (type == KING) {
        int rights = pos->castling >> (2 * us);
        queen_side = (rights & WHITE_OOO) != 0;
        castlings = queen_side + ((rights & WHITE_OO) != 0);
    }
    index = take(bits, used_bits(count + castlings));
    if (index < 0) return "movetext runs past the end of its chunk";
    if (index >= count + castlings) return "move index beyond the piece's moves";
    if (index >= count) {
        int base = us == WHITE ? 0 : 56, long_castle = index == count && queen_side;
        m->to = (uint8_t)(base + (long_castle ? 2 : 6));
        m->kind = MOVE_CASTLE;
        return 0;
    }
    m->to = (uint8_t)nth_set_square(targets, index);
    if (type == PAWN && m->to == pos->ep) m->kind = MOVE_EN_PASSANT;
    return 0;
}

static const char *decode_score(Bits *bits, int *delta) {
    unsigned value = 0;
    for (int shift = 0;; shift += SCORE_BLOCK_BITS) {
        if (shift >= 16) return "score delta longer than 16 bits";
        int block = take(bits, SCORE_BLOCK_BITS + 1);
        if (block < 0) return "movetext runs past the end of its chunk";
        value |= (unsigned)(block & 15) << shift;
        if (!(block >> SCORE_BLOCK_BITS)) break;
    }
    *delta = unzigzag(value & 0xFFFF);
    return 0;
}

/* one chain at `offset`; returns the offset after it, 0 with out->error set, or `offset`
 * itself (nothing decoded) when the chain does not fit the records left in `out` */
static size_t decode_chain(const uint8_t *data, size_t size, size_t offset, Output *out) {
    Position pos;
    KingInfo info;
    Move m;
    int score, ply, result;
    out->error_ply = 0;
    if (offset + STEM_BYTES + 2 > size) {
        out->error = "trailing bytes too few for a chain";
        return 0;
    }
    unsigned plies = be16(data + offset + STEM_BYTES);
    if (out->capacity - out->count < 1 + (size_t)plies) return offset; /* for a fresh buffer */
    const char *problem = decode_stem(data + offset, &pos, &m, &score, &ply, &result);
    if (!problem) problem = emit_checked(&pos, m, score, ply, result, out);
    if (problem) {
        out->error = problem;
        return 0;
    }
    Bits bits = {data, 8 * (offset + STEM_BYTES + 2), 8 * size};
    for (unsigned step = 1; step <= plies; step++) {
        out->error_ply = (int)step;
        do_move(&pos, m);
        king_info(&pos, &info);
        int delta = 0;
        problem = decode_move(&pos, &bits, &m);
        if (!problem && !pseudo_legal_move_legal(&pos, &info, m))
            problem = m.kind == MOVE_CASTLE ? "illegal castling"
                                            : "illegal move (leaves the king in check)";
        if (!problem) problem = decode_score(&bits, &delta);
        if (!problem) {
            score = (int16_t)(-score + delta);
            ply += 1;
            result = -result;
            problem = check_values(score, ply, result);
        }
        if (!problem) problem = emit(&pos, &info, m, score, ply, result, out);
        if (problem) {
            out->error = problem;
            return 0;
        }
    }
    return (bits.bit + 7) >> 3;
}

size_t decode_binpack_chains(const uint8_t *data, size_t size, size_t offset, Output *out) {
    while (offset < size) {
        size_t next = decode_chain(data, size, offset, out);
        if (!next) {
            out->error_at = offset;
            return offset;
        }
        if (next == offset) return offset; /* full */
        offset = next;
    }
    return offset;
}

/* ---- .bin ---------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *data;
    int bit;
} LsbBits;

static unsigned take_lsb(LsbBits *bits, int count) {
    unsigned value = 0;
    for (int i = 0; i < count; i++, bits->bit++) {
        if (bits->bit >= SFEN_BITS) return 0;
        value |= (unsigned)((bits->data[bits->bit >> 3] >> (bits->bit & 7)) & 1) << i;
    }
    return value;
}

static const char *unpack_sfen(const uint8_t *s, Position *pos) {
    static const int8_t HUFFMAN[16] = {-1, PAWN, -1, KNIGHT, -1, BISHOP, -1, ROOK,
                                       -1, QUEEN, -1, -1, -1, -1, -1, -1};
    LsbBits bits = {s, 0};
    position_clear(pos);
    pos->side = (uint8_t)take_lsb(&bits, 1);
    int kings[2];
    kings[WHITE] = (int)take_lsb(&bits, 6);
    kings[BLACK] = (int)take_lsb(&bits, 6);
    if (kings[WHITE] == kings[BLACK]) return "both kings on one square";
    put_piece(pos, 2 * KING + WHITE, kings[WHITE]);
    put_piece(pos, 2 * KING + BLACK, kings[BLACK]);
    for (int rank = 7; rank >= 0; rank--) {
        for (int file = 0; file < 8; file++) {
            int sq = rank * 8 + file;
            if (sq == kings[WHITE] || sq == kings[BLACK]) continue;
            if (!take_lsb(&bits, 1)) continue;
            bits.bit--;
            int type = HUFFMAN[take_lsb(&bits, 4)];
            if (type < 0) return "bad piece code in the packed position";
            put_piece(pos, 2 * type + (int)take_lsb(&bits, 1), sq);
        }
    }
    int castling = 0;
    static const int ORDER[4] = {WHITE_OO, WHITE_OOO, BLACK_OO, BLACK_OOO};
    for (int i = 0; i < 4; i++)
        if (take_lsb(&bits, 1)) castling |= ORDER[i];
    int ep = take_lsb(&bits, 1) ? (int)take_lsb(&bits, 6) : NO_SQUARE;
    int rule50 = (int)take_lsb(&bits, 6);
    take_lsb(&bits, 16); /* fullmove number */
    rule50 |= (int)take_lsb(&bits, 1) << 6;
    if (bits.bit > SFEN_BITS) return "packed position longer than 256 bits";
    const char *problem = position_problem(pos);
    if (problem) return problem;
    for (int i = 0; i < 4; i++) { /* castling rights need the king and rook at home */
        int color = i >= 2, base = color ? 56 : 0, rook = base + ((ORDER[i] & 5) ? 7 : 0);
        if ((castling & ORDER[i]) &&
            (pos->piece[base + 4] != 2 * KING + color || pos->piece[rook] != 2 * ROOK + color))
            return "castling rights without the king and rook on their squares";
    }
    pos->castling = (uint8_t)castling;
    pos->rule50 = (uint16_t)rule50;
    if (ep != NO_SQUARE && (ep >> 3) == (pos->side == WHITE ? 5 : 2) && pos->piece[ep] < 0 &&
        pos->piece[ep ^ 8] == 2 * PAWN + (pos->side ^ 1) && en_passant_possible(pos, ep))
        pos->ep = (uint8_t)ep;
    return 0;
}

static const char *decode_bin_record(const uint8_t *r, Output *out) {
    Position pos;
    const char *problem = unpack_sfen(r, &pos);
    if (problem) return problem;
    int score = (int16_t)(r[32] | r[33] << 8);
    unsigned code = r[34] | r[35] << 8;
    int ply = r[36] | r[37] << 8, result = (int8_t)r[38];
    /* Stockfish's Move: flag:2 (0 normal, 1 promotion, 2 en passant, 3 castling) | promotion:2
     * | from:6 | to:6 */
    static const uint8_t KIND[4] = {MOVE_NORMAL, MOVE_PROMOTION, MOVE_EN_PASSANT, MOVE_CASTLE};
    Move m = {(uint8_t)((code >> 6) & 63), (uint8_t)(code & 63), 0, KIND[code >> 14]};
    m.promo = m.kind == MOVE_PROMOTION ? (uint8_t)(KNIGHT + ((code >> 12) & 3))
                                       : (uint8_t)((code >> 12) & 3);
    if (m.kind == MOVE_CASTLE) {
        if (((m.to & 7) != 0 && (m.to & 7) != 7) || (m.to ^ m.from) >> 3)
            return "castling to a square that is no corner of the king's rank";
        m.to = (uint8_t)((m.to & 56) + ((m.to & 7) ? 6 : 2));
    }
    return emit_checked(&pos, m, score, ply, result, out);
}

void decode_bin_records(const uint8_t *data, size_t count, Output *out) {
    for (size_t i = 0; i < count; i++) {
        const char *problem = decode_bin_record(data + 40 * i, out);
        if (problem) {
            out->error = problem;
            out->error_at = i;
            return;
        }
    }
}

const char *decode_fen_record(const char *fen, const char *uci, int score, int ply, int result,
                              Output *out) {
    Position pos;
    Move m;
    const char *problem = parse_fen(fen, &pos);
    if (!problem) problem = position_problem(&pos);
    if (!problem) problem = parse_uci(&pos, uci, &m);
    if (!problem) problem = emit_checked(&pos, m, score, ply, result, out);
    return problem;
}
