/* Chess positions as bitboards: attacks, legal moves, making moves, FEN, HalfKAv2_hm features.
 *
 * Squares 0 = a1 .. 63 = h8. A piece code is 2 * type + colour (type pawn 0 .. king 5, colour
 * white 0 / black 1), as in .binpack stems; -1 is an empty square. Castling is standard chess
 * only (king on e1/e8, rooks on the a/h corners). The en passant square is kept only when a
 * legal en passant capture exists (nnue-pytorch's convention, which .binpack relies on). */
#ifndef ZF_BOARD_H
#define ZF_BOARD_H

#include <stdint.h>

typedef uint64_t u64;

enum { WHITE = 0, BLACK = 1 };
enum { PAWN = 0, KNIGHT, BISHOP, ROOK, QUEEN, KING };
enum { NO_SQUARE = 64 };
enum { WHITE_OO = 1, WHITE_OOO = 2, BLACK_OO = 4, BLACK_OOO = 8 };
/* move kinds (nnue-pytorch's order, as in .binpack stems) */
enum { MOVE_NORMAL = 0, MOVE_PROMOTION = 1, MOVE_CASTLE = 2, MOVE_EN_PASSANT = 3 };

typedef struct {
    u64 color[2];
    u64 type[6];
    int8_t piece[64];
    uint8_t side, ep, castling;
    uint16_t rule50;
} Position;

/* to is the king's destination for castling (UCI), promo a piece type or 0 */
typedef struct {
    uint8_t from, to, promo, kind;
} Move;

#define BIT(sq) (1ULL << (sq))
#define LSB(b) __builtin_ctzll(b)

/* Without the popcnt instruction (not in the x86-64 baseline) __builtin_popcountll is a
 * library call; this inline form is faster then. */
static inline int POPCOUNT(u64 b) {
#if defined(__POPCNT__) || !defined(__x86_64__)
    return __builtin_popcountll(b);
#else
    b = b - ((b >> 1) & 0x5555555555555555ULL);
    b = (b & 0x3333333333333333ULL) + ((b >> 2) & 0x3333333333333333ULL);
    b = (b + (b >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (int)((b * 0x0101010101010101ULL) >> 56);
#endif
}

extern u64 KNIGHT_ATTACKS[64], KING_ATTACKS[64], PAWN_ATTACKS[2][64];

void board_init(void);
u64 bishop_attacks(int sq, u64 occ);
u64 rook_attacks(int sq, u64 occ);
u64 attacks_of(int type, int sq, u64 occ);
/* the square of the n-th set bit of mask (n from 0, ascending) */
static inline int nth_set_square(u64 mask, int n) {
#ifdef __BMI2__
    return LSB(__builtin_ia32_pdep_di(1ULL << n, mask));
#else
    while (n-- > 0) mask &= mask - 1;
    return LSB(mask);
#endif
}

void position_clear(Position *pos);
void put_piece(Position *pos, int code, int sq);
int king_square(const Position *pos, int color);
int square_attacked(const Position *pos, int sq, int by, u64 occ);
int in_check(const Position *pos);
/* destination squares of the piece on `from` as .binpack enumerates them (no castling) */
u64 piece_targets(const Position *pos, int from);
int castling_legal(const Position *pos, int right);
int move_legal(const Position *pos, Move m);
/* could the side to move capture a pawn that just passed `ep` (behind it) legally? */
int en_passant_possible(const Position *pos, int ep);
void do_move(Position *pos, Move m);
int generate_legal(const Position *pos, Move *out);
uint64_t perft(const Position *pos, int depth);
/* 0 ok; else a message (static string) saying what is wrong with the position */
const char *position_problem(const Position *pos);

/* FEN -> position; returns NULL or a message. Fullmove number ignored. */
const char *parse_fen(const char *fen, Position *pos);
/* UCI move text -> move of `pos` (kind filled in); returns NULL or a message */
const char *parse_uci(const Position *pos, const char *uci, Move *m);
void move_to_uci(Move m, char out[6]);

/* The side to move's king, the pieces giving check and its pieces pinned to the king */
typedef struct {
    u64 checkers, pinned;
    int king;
} KingInfo;
void king_info(const Position *pos, KingInfo *info);
/* is a pseudo-legal move (a destination among piece_targets, or castling) legal? */
int pseudo_legal_move_legal(const Position *pos, const KingInfo *info, Move m);

/* The feature set (HalfKAv2_hm) as tables, made by chess/features.py (its one definition):
 * feature of a piece (code) on `sq`, seen by `perspective` whose king is on `king` =
 * king_base[perspective][king] + piece_square[perspective][king_mirror[perspective][king]]
 * [code][sq]. */
typedef struct {
    int16_t king_base[2][64];
    uint8_t king_mirror[2][64];
    int16_t piece_square[2][2][12][64];
} FeatureTables;
int load_features(const FeatureTables *tables); /* 0 if the tables are malformed */
int features_ready(void);
/* features of both perspectives (`first`, then the other), ascending square order of the
 * pieces; returns how many per perspective (<= 32) */
int both_features(const Position *pos, int first, int16_t *first_out, int16_t *second_out);
int halfka_features(const Position *pos, int perspective, int16_t *out);

#endif
