/* Bitboard chess: attack tables, legal moves, making moves, FEN and UCI, features.
 * See board.h for the conventions. Sliding attacks use ray masks cut at the first blocker. */
#include "board.h"

#include <stdlib.h>
#include <string.h>

u64 KNIGHT_ATTACKS[64], KING_ATTACKS[64], PAWN_ATTACKS[2][64];
/* rays per direction: N, NE, E, NW (increasing squares), S, SW, W, SE (decreasing) */
static u64 RAYS[8][64];
static const int RAY_FILE[8] = {0, 1, 1, -1, 0, -1, -1, 1};
static const int RAY_RANK[8] = {1, 1, 0, 1, -1, -1, 0, -1};
/* squares strictly between two squares on a line (0 if not on one), and the squares a bishop
 * or rook on an empty board reaches */
static u64 BETWEEN[64][64], DIAGONALS[64], LINES[64];
/* castling rights kept when a move leaves or reaches the square */
static uint8_t CASTLING_KEEP[64];
/* the feature set as tables, loaded from Python (chess/features.py, the one definition) */
static FeatureTables FEATURES;
static int features_loaded;

static u64 step_mask(int sq, const int (*steps)[2], int count) {
    u64 mask = 0;
    int file = sq & 7, rank = sq >> 3;
    for (int i = 0; i < count; i++) {
        int f = file + steps[i][0], r = rank + steps[i][1];
        if (f >= 0 && f < 8 && r >= 0 && r < 8) mask |= BIT(r * 8 + f);
    }
    return mask;
}

void board_init(void) {
    static const int knight[8][2] = {{1, 2}, {2, 1}, {2, -1}, {1, -2},
                                     {-1, -2}, {-2, -1}, {-2, 1}, {-1, 2}};
    static const int king[8][2] = {{1, 0}, {1, 1}, {0, 1}, {-1, 1},
                                   {-1, 0}, {-1, -1}, {0, -1}, {1, -1}};
    static const int white_pawn[2][2] = {{-1, 1}, {1, 1}};
    static const int black_pawn[2][2] = {{-1, -1}, {1, -1}};
    for (int sq = 0; sq < 64; sq++) {
        KNIGHT_ATTACKS[sq] = step_mask(sq, knight, 8);
        KING_ATTACKS[sq] = step_mask(sq, king, 8);
        PAWN_ATTACKS[WHITE][sq] = step_mask(sq, white_pawn, 2);
        PAWN_ATTACKS[BLACK][sq] = step_mask(sq, black_pawn, 2);
        for (int d = 0; d < 8; d++) {
            u64 ray = 0;
            int f = (sq & 7) + RAY_FILE[d], r = (sq >> 3) + RAY_RANK[d];
            for (; f >= 0 && f < 8 && r >= 0 && r < 8; f += RAY_FILE[d], r += RAY_RANK[d])
                ray |= BIT(r * 8 + f);
            RAYS[d][sq] = ray;
        }
        CASTLING_KEEP[sq] = 15;
    }
    for (int sq = 0; sq < 64; sq++) {
        DIAGONALS[sq] = RAYS[1][sq] | RAYS[3][sq] | RAYS[5][sq] | RAYS[7][sq];
        LINES[sq] = RAYS[0][sq] | RAYS[2][sq] | RAYS[4][sq] | RAYS[6][sq];
        for (int d = 0; d < 8; d++) {
            for (u64 ray = RAYS[d][sq]; ray; ray &= ray - 1) {
                int to = LSB(ray);
                BETWEEN[sq][to] = RAYS[d][sq] & ~RAYS[d][to] & ~BIT(to);
            }
        }
    }
    CASTLING_KEEP[4] = 15 & ~(WHITE_OO | WHITE_OOO);
    CASTLING_KEEP[0] = 15 & ~WHITE_OOO;
    CASTLING_KEEP[7] = 15 & ~WHITE_OO;
    CASTLING_KEEP[60] = 15 & ~(BLACK_OO | BLACK_OOO);
    CASTLING_KEEP[56] = 15 & ~BLACK_OOO;
    CASTLING_KEEP[63] = 15 & ~BLACK_OO;
}

static inline u64 ray_attacks(int d, int sq, u64 occ) {
    u64 ray = RAYS[d][sq], blockers = ray & occ;
    if (blockers) {
        int first = d < 4 ? LSB(blockers) : 63 - __builtin_clzll(blockers);
        ray ^= RAYS[d][first];
    }
    return ray;
}

u64 bishop_attacks(int sq, u64 occ) {
    return ray_attacks(1, sq, occ) | ray_attacks(3, sq, occ) | ray_attacks(5, sq, occ) |
           ray_attacks(7, sq, occ);
}

u64 rook_attacks(int sq, u64 occ) {
    return ray_attacks(0, sq, occ) | ray_attacks(2, sq, occ) | ray_attacks(4, sq, occ) |
           ray_attacks(6, sq, occ);
}

u64 attacks_of(int type, int sq, u64 occ) {
    switch (type) {
    case KNIGHT: return KNIGHT_ATTACKS[sq];
    case BISHOP: return bishop_attacks(sq, occ);
    case ROOK: return rook_attacks(sq, occ);
    case QUEEN: return bishop_attacks(sq, occ) | rook_attacks(sq, occ);
    case KING: return KING_ATTACKS[sq];
    default: return 0;
    }
}

void position_clear(Position *pos) {
    memset(pos, 0, sizeof *pos);
    memset(pos->piece, -1, sizeof pos->piece);
    pos->ep = NO_SQUARE;
}

void put_piece(Position *pos, int code, int sq) {
    pos->piece[sq] = (int8_t)code;
    pos->color[code & 1] |= BIT(sq);
    pos->type[code >> 1] |= BIT(sq);
}

static inline void remove_piece(Position *pos, int sq) {
    int code = pos->piece[sq];
    pos->piece[sq] = -1;
    pos->color[code & 1] &= ~BIT(sq);
    pos->type[code >> 1] &= ~BIT(sq);
}

int king_square(const Position *pos, int color) {
    u64 kings = pos->type[KING] & pos->color[color];
    return kings ? LSB(kings) : NO_SQUARE;
}

/* is `sq` attacked by one of `attackers` (pieces of colour `by`), sliders blocked by `occ` */
static int attacked_by(const Position *pos, int sq, int by, u64 attackers, u64 occ) {
    u64 diagonal = (pos->type[BISHOP] | pos->type[QUEEN]) & attackers;
    u64 straight = (pos->type[ROOK] | pos->type[QUEEN]) & attackers;
    return (PAWN_ATTACKS[by ^ 1][sq] & pos->type[PAWN] & attackers) ||
           (KNIGHT_ATTACKS[sq] & pos->type[KNIGHT] & attackers) ||
           (KING_ATTACKS[sq] & pos->type[KING] & attackers) ||
           (diagonal && (bishop_attacks(sq, occ) & diagonal)) ||
           (straight && (rook_attacks(sq, occ) & straight));
}

int square_attacked(const Position *pos, int sq, int by, u64 occ) {
    return attacked_by(pos, sq, by, pos->color[by] & occ, occ);
}

int in_check(const Position *pos) {
    int king = king_square(pos, pos->side);
    return square_attacked(pos, king, pos->side ^ 1, pos->color[0] | pos->color[1]);
}

u64 piece_targets(const Position *pos, int from) {
    int us = pos->side, type = pos->piece[from] >> 1;
    u64 ours = pos->color[us], occ = ours | pos->color[us ^ 1];
    if (type != PAWN) return attacks_of(type, from, occ) & ~ours;
    u64 targets = pos->color[us ^ 1];
    if (pos->ep != NO_SQUARE) targets |= BIT(pos->ep);
    u64 out = PAWN_ATTACKS[us][from] & targets;
    int forward = us == WHITE ? 8 : -8, rank = from >> 3;
    int single = from + forward;
    if (single >= 0 && single < 64 && !(occ & BIT(single))) {
        out |= BIT(single);
        if (rank == (us == WHITE ? 1 : 6) && !(occ & BIT(single + forward)))
            out |= BIT(single + forward);
    }
    return out;
}

/* the king moves from e1/e8 to g/c; the rook from its corner to f/d */
int castling_legal(const Position *pos, int right) {
    if (!(pos->castling & right)) return 0;
    int us = pos->side, base = us == WHITE ? 0 : 56;
    int king_side = right == WHITE_OO || right == BLACK_OO;
    int king = base + 4, rook = base + (king_side ? 7 : 0);
    if (pos->piece[king] != 2 * KING + us || pos->piece[rook] != 2 * ROOK + us) return 0;
    u64 occ = pos->color[0] | pos->color[1];
    u64 between = king_side ? BIT(base + 5) | BIT(base + 6)
                            : BIT(base + 1) | BIT(base + 2) | BIT(base + 3);
    if (occ & between) return 0;
    int step = king_side ? 1 : -1;
    for (int sq = king; sq != king + 3 * step; sq += step)
        if (square_attacked(pos, sq, us ^ 1, occ)) return 0;
    return 1;
}

/* does the move (pseudo-legal, not castling) leave our king safe? */
static int king_safe_after(const Position *pos, Move m) {
    int us = pos->side;
    u64 occ = ((pos->color[0] | pos->color[1]) & ~BIT(m.from)) | BIT(m.to);
    u64 attackers = pos->color[us ^ 1] & ~BIT(m.to);
    if (m.kind == MOVE_EN_PASSANT) {
        occ &= ~BIT(m.to ^ 8);
        attackers &= ~BIT(m.to ^ 8);
    }
    int king = (pos->piece[m.from] >> 1) == KING ? m.to : king_square(pos, us);
    return !attacked_by(pos, king, us ^ 1, attackers, occ);
}

void king_info(const Position *pos, KingInfo *info) {
    int us = pos->side, king = LSB(pos->type[KING] & pos->color[us]);
    u64 theirs = pos->color[us ^ 1], occ = pos->color[0] | pos->color[1];
    u64 diagonal = (pos->type[BISHOP] | pos->type[QUEEN]) & theirs;
    u64 straight = (pos->type[ROOK] | pos->type[QUEEN]) & theirs;
    u64 snipers = (DIAGONALS[king] & diagonal) | (LINES[king] & straight);
    u64 checkers = (PAWN_ATTACKS[us][king] & pos->type[PAWN] & theirs) |
                   (KNIGHT_ATTACKS[king] & pos->type[KNIGHT] & theirs);
    u64 pinned = 0;
    while (snipers) {
        int sniper = LSB(snipers);
        snipers &= snipers - 1;
        u64 between = BETWEEN[king][sniper] & occ;
        if (!between) checkers |= BIT(sniper);
        else if (!(between & (between - 1))) pinned |= between & pos->color[us];
    }
    info->king = king;
    info->checkers = checkers;
    info->pinned = pinned;
}

int pseudo_legal_move_legal(const Position *pos, const KingInfo *info, Move m) {
    if (m.kind == MOVE_CASTLE) return move_legal(pos, m);
    if (m.from == info->king) {
        u64 occ = (pos->color[0] | pos->color[1]) & ~BIT(m.from);
        return !attacked_by(pos, m.to, pos->side ^ 1, pos->color[pos->side ^ 1] & ~BIT(m.to), occ);
    }
    if (m.kind == MOVE_EN_PASSANT) return king_safe_after(pos, m);
    if (info->checkers) {
        if (info->checkers & (info->checkers - 1)) return 0; /* double check: king moves only */
        if (!(BIT(m.to) & (info->checkers | BETWEEN[info->king][LSB(info->checkers)]))) return 0;
    }
    return !(info->pinned & BIT(m.from)) || king_safe_after(pos, m);
}

int move_legal(const Position *pos, Move m) {
    if (m.kind == MOVE_CASTLE) {
        int base = pos->side == WHITE ? 0 : 56;
        int right = m.to == base + 6 ? (pos->side == WHITE ? WHITE_OO : BLACK_OO)
                                     : (pos->side == WHITE ? WHITE_OOO : BLACK_OOO);
        return m.from == base + 4 && (m.to == base + 6 || m.to == base + 2) &&
               castling_legal(pos, right);
    }
    return king_safe_after(pos, m);
}

/* could the side to move capture en passant on `ep` legally? */
int en_passant_possible(const Position *pos, int ep) {
    int us = pos->side;
    u64 capturers = PAWN_ATTACKS[us ^ 1][ep] & pos->type[PAWN] & pos->color[us];
    while (capturers) {
        int from = LSB(capturers);
        capturers &= capturers - 1;
        Move m = {(uint8_t)from, (uint8_t)ep, 0, MOVE_EN_PASSANT};
        if (king_safe_after(pos, m)) return 1;
    }
    return 0;
}

void do_move(Position *pos, Move m) {
    int us = pos->side, code = pos->piece[m.from], type = code >> 1;
    pos->rule50++;
    if (m.kind == MOVE_CASTLE) {
        int base = us == WHITE ? 0 : 56, king_side = m.to == base + 6;
        remove_piece(pos, m.from);
        remove_piece(pos, base + (king_side ? 7 : 0));
        put_piece(pos, 2 * KING + us, m.to);
        put_piece(pos, 2 * ROOK + us, base + (king_side ? 5 : 3));
    } else {
        int captured = m.kind == MOVE_EN_PASSANT ? (m.to ^ 8) : m.to;
        if (pos->piece[captured] >= 0) {
            remove_piece(pos, captured);
            pos->rule50 = 0;
        }
        remove_piece(pos, m.from);
        put_piece(pos, m.promo ? 2 * m.promo + us : code, m.to);
        if (type == PAWN) pos->rule50 = 0;
    }
    pos->castling &= CASTLING_KEEP[m.from] & CASTLING_KEEP[m.to];
    pos->ep = NO_SQUARE;
    pos->side = us ^ 1;
    if (type == PAWN && (m.to ^ m.from) == 16) {
        int ep = (m.from + m.to) / 2;
        if (en_passant_possible(pos, ep)) pos->ep = (uint8_t)ep;
    }
}

int generate_legal(const Position *pos, Move *out) {
    int count = 0, us = pos->side;
    u64 ours = pos->color[us];
    while (ours) {
        int from = LSB(ours);
        ours &= ours - 1;
        int type = pos->piece[from] >> 1;
        u64 targets = piece_targets(pos, from);
        while (targets) {
            int to = LSB(targets);
            targets &= targets - 1;
            Move m = {(uint8_t)from, (uint8_t)to, 0, MOVE_NORMAL};
            if (type == PAWN && to == pos->ep) m.kind = MOVE_EN_PASSANT;
            if (!king_safe_after(pos, m)) continue;
            if (type == PAWN && (to >> 3) == (us == WHITE ? 7 : 0)) {
                for (int promo = KNIGHT; promo <= QUEEN; promo++) {
                    m.kind = MOVE_PROMOTION;
                    m.promo = (uint8_t)promo;
                    out[count++] = m;
                }
            } else {
                out[count++] = m;
            }
        }
    }
    int base = us == WHITE ? 0 : 56;
    int rights[2] = {us == WHITE ? WHITE_OO : BLACK_OO, us == WHITE ? WHITE_OOO : BLACK_OOO};
    for (int i = 0; i < 2; i++) {
        if (castling_legal(pos, rights[i])) {
            Move m = {(uint8_t)(base + 4), (uint8_t)(base + (i == 0 ? 6 : 2)), 0, MOVE_CASTLE};
            out[count++] = m;
        }
    }
    return count;
}

uint64_t perft(const Position *pos, int depth) {
    Move moves[256];
    int count = generate_legal(pos, moves);
    if (depth <= 1) return depth == 1 ? (uint64_t)count : 1;
    uint64_t total = 0;
    for (int i = 0; i < count; i++) {
        Position next = *pos;
        do_move(&next, moves[i]);
        total += perft(&next, depth - 1);
    }
    return total;
}

const char *position_problem(const Position *pos) {
    for (int color = 0; color < 2; color++)
        if (POPCOUNT(pos->type[KING] & pos->color[color]) != 1)
            return "a side has no king or more than one";
    if (pos->type[PAWN] & 0xFF000000000000FFULL) return "a pawn on the first or last rank";
    int them = pos->side ^ 1;
    if (square_attacked(pos, king_square(pos, them), pos->side, pos->color[0] | pos->color[1]))
        return "the side not to move is in check";
    return 0;
}

static int piece_of_char(char c) {
    static const char *letters = "PpNnBbRrQqKk";
    const char *hit = c ? strchr(letters, c) : 0;
    return hit ? (int)(hit - letters) : -1;
}

const char *parse_fen(const char *fen, Position *pos) {
    position_clear(pos);
    int rank = 7, file = 0;
    const char *c = fen;
    for (; *c && *c != ' '; c++) {
        if (*c == '/') {
            if (file != 8 || rank == 0) return "bad FEN board";
            rank--, file = 0;
        } else if (*c >= '1' && *c <= '8') {
            file += *c - '0';
        } else {
            int code = piece_of_char(*c);
            if (code < 0 || file > 7) return "bad FEN board";
            put_piece(pos, code, rank * 8 + file++);
        }
        if (file > 8) return "bad FEN board";
    }
    if (rank != 0 || file != 8 || *c != ' ') return "bad FEN board";
    c++;
    if (*c != 'w' && *c != 'b') return "bad FEN side to move";
    pos->side = *c++ == 'b';
    if (*c++ != ' ') return "bad FEN";
    for (; *c && *c != ' '; c++) {
        switch (*c) {
        case 'K': pos->castling |= WHITE_OO; break;
        case 'Q': pos->castling |= WHITE_OOO; break;
        case 'k': pos->castling |= BLACK_OO; break;
        case 'q': pos->castling |= BLACK_OOO; break;
        case '-': break;
        default: return "bad FEN castling rights (standard chess only)";
        }
    }
    if (*c++ != ' ') return "bad FEN";
    if (*c == '-') {
        c++;
    } else {
        if (c[0] < 'a' || c[0] > 'h' || (c[1] != '3' && c[1] != '6')) return "bad FEN en passant";
        int ep = (c[1] - '1') * 8 + (c[0] - 'a');
        c += 2;
        int pushed = 2 * PAWN + (pos->side ^ 1);
        if (pos->piece[ep ^ 8] == pushed && pos->piece[ep] < 0 && (ep >> 3) == (pos->side ? 2 : 5) &&
            en_passant_possible(pos, ep))
            pos->ep = (uint8_t)ep;
    }
    if (*c == ' ') pos->rule50 = (uint16_t)strtol(c + 1, 0, 10);
    /* castling rights need the king and rook at home (python-chess's clean_castling_rights) */
    for (int i = 0; i < 4; i++) {
        int right = 1 << i, base = i < 2 ? 0 : 56, color = i < 2 ? WHITE : BLACK;
        int rook = base + ((i & 1) ? 0 : 7);
        if (pos->piece[base + 4] != 2 * KING + color || pos->piece[rook] != 2 * ROOK + color)
            pos->castling &= ~right;
    }
    return 0;
}

const char *parse_uci(const Position *pos, const char *uci, Move *m) {
    size_t n = strlen(uci);
    if (n < 4 || n > 5 || uci[0] < 'a' || uci[0] > 'h' || uci[2] < 'a' || uci[2] > 'h' ||
        uci[1] < '1' || uci[1] > '8' || uci[3] < '1' || uci[3] > '8')
        return "bad UCI move";
    m->from = (uint8_t)((uci[1] - '1') * 8 + uci[0] - 'a');
    m->to = (uint8_t)((uci[3] - '1') * 8 + uci[2] - 'a');
    m->promo = 0;
    m->kind = MOVE_NORMAL;
    if (n == 5) {
        const char *hit = strchr("nbrq", uci[4]);
        if (!hit || !uci[4]) return "bad UCI promotion";
        m->promo = (uint8_t)(KNIGHT + (hit - "nbrq"));
    }
    Move legal[256];
    int count = generate_legal(pos, legal);
    for (int i = 0; i < count; i++) {
        if (legal[i].from == m->from && legal[i].to == m->to && legal[i].promo == m->promo) {
            *m = legal[i];
            return 0;
        }
    }
    return "illegal move";
}

void move_to_uci(Move m, char out[6]) {
    out[0] = (char)('a' + (m.from & 7));
    out[1] = (char)('1' + (m.from >> 3));
    out[2] = (char)('a' + (m.to & 7));
    out[3] = (char)('1' + (m.to >> 3));
    out[4] = m.promo ? " nbrq"[m.promo] : 0;
    out[5] = 0;
}

int load_features(const FeatureTables *tables) {
    for (int side = 0; side < 2; side++)
        for (int king = 0; king < 64; king++)
            if (tables->king_mirror[side][king] > 1) return 0;
    FEATURES = *tables;
    features_loaded = 1;
    return 1;
}

int features_ready(void) { return features_loaded; }

/* both perspectives at once: one pass over the pieces in ascending square order */
int both_features(const Position *pos, int first, int16_t *first_out, int16_t *second_out) {
    int second = first ^ 1;
    int king1 = LSB(pos->type[KING] & pos->color[first]);
    int king2 = LSB(pos->type[KING] & pos->color[second]);
    int base1 = FEATURES.king_base[first][king1], base2 = FEATURES.king_base[second][king2];
    const int16_t *table1 = FEATURES.piece_square[first][FEATURES.king_mirror[first][king1]][0];
    const int16_t *table2 = FEATURES.piece_square[second][FEATURES.king_mirror[second][king2]][0];
    u64 occ = pos->color[0] | pos->color[1];
    int count = 0;
    while (occ) {
        int sq = LSB(occ);
        occ &= occ - 1;
        int at = 64 * pos->piece[sq] + sq;
        first_out[count] = (int16_t)(base1 + table1[at]);
        second_out[count] = (int16_t)(base2 + table2[at]);
        count++;
    }
    return count;
}

int halfka_features(const Position *pos, int perspective, int16_t *out) {
    int16_t other[64];
    return both_features(pos, perspective, out, other);
}
