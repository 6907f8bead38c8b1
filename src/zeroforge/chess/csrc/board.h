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
#define POPCOUNT(b) __builtin_popcountll(b)
#define LSB(b) __builtin_ctzll(b)

extern u64 KNIGHT_ATTACKS[64], KING_ATTACKS[64], PAWN_ATTACKS[2][64];

void board_init(void);
u64 bishop_attacks(int sq, u64 occ);
u64 rook_attacks(int sq, u64 occ);
u64 attacks_of(int type, int sq, u64 occ);
int nth_set_square(u64 mask, int n);

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

/* HalfKAv2_hm feature indices of the position from `perspective`; returns how many (<= 32) */
int halfka_features(const Position *pos, int perspective, int16_t *out);

#endif
