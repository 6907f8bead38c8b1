/* zeroforge.chess._decoder: the compiled chess decoder's Python face (see data/chess_decoder.py).
 * Inputs are any buffer (bytes, mmap, memoryview); records come back as bytes of Record
 * structs (decode.h), which decoder.py views as a numpy structured array. Decoding runs
 * without the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "decode.h"

static PyObject *error_or_none(const char *error) {
    if (error) return PyUnicode_FromString(error);
    Py_RETURN_NONE;
}

/* the caller's writable buffer of records, from record `first` on, as an Output; 0 (exception
 * set) if unusable */
static int records_out(Py_buffer *records, Py_ssize_t first, Output *out) {
    if (!features_ready()) {
        PyErr_SetString(PyExc_RuntimeError, "load_features() was not called");
        return 0;
    }
    Py_ssize_t whole = records->len / (Py_ssize_t)sizeof(Record);
    if (records->len % sizeof(Record) || first < 0 || first > whole) {
        PyErr_SetString(PyExc_ValueError, "record buffer is not whole records past `first`");
        return 0;
    }
    out->records = (Record *)records->buf + first;
    out->capacity = (size_t)(whole - first);
    return 1;
}

/* decode_binpack(buffer, spans, span, offset, records, first, counts) -> (span, offset, count,
 * error or None, error ply): the chains of the chunk payloads buffer[start:end] of `spans`
 * (int64 [k, 2]), from chunk `span` at file offset `offset` on, into the writable buffer
 * `records` from record `first` on; counts[i] (int64 [k]) gets the records of chunk i. Stops
 * after the last chunk (span == k), before a chain that does not fit, or at a bad chain (the
 * span and offset say where). */
static PyObject *py_decode_binpack(PyObject *self, PyObject *args) {
    Py_buffer view, spans, records, counts;
    Py_ssize_t span, offset, first;
    if (!PyArg_ParseTuple(args, "y*y*nnw*nw*", &view, &spans, &span, &offset, &records, &first,
                          &counts))
        return NULL;
    Output out = {0};
    Py_ssize_t k = spans.len / (Py_ssize_t)(2 * sizeof(int64_t));
    const int64_t *bounds = spans.buf;
    int64_t *per_span = counts.buf;
    int ok = records_out(&records, first, &out);
    if (ok && (counts.len != k * (Py_ssize_t)sizeof(int64_t) || span < 0 || span > k)) {
        PyErr_SetString(PyExc_ValueError, "spans and counts do not match");
        ok = 0;
    }
    for (Py_ssize_t i = 0; ok && i < k; i++) {
        if (bounds[2 * i] < 0 || bounds[2 * i] > bounds[2 * i + 1] || bounds[2 * i + 1] > view.len) {
            PyErr_SetString(PyExc_ValueError, "a span outside the buffer");
            ok = 0;
        }
    }
    if (ok) {
        Py_BEGIN_ALLOW_THREADS;
        for (; span < k; span++) {
            size_t before = out.count;
            if (offset < bounds[2 * span]) offset = (Py_ssize_t)bounds[2 * span];
            size_t end = (size_t)bounds[2 * span + 1];
            offset = (Py_ssize_t)decode_binpack_chains(view.buf, end, (size_t)offset, &out);
            per_span[span] += (int64_t)(out.count - before);
            if (out.error || (size_t)offset < end) break; /* bad chain, or full */
        }
        Py_END_ALLOW_THREADS;
    }
    PyBuffer_Release(&view);
    PyBuffer_Release(&spans);
    PyBuffer_Release(&records);
    PyBuffer_Release(&counts);
    if (!ok) return NULL;
    return Py_BuildValue("(nnnNi)", span, offset, (Py_ssize_t)out.count, error_or_none(out.error),
                         out.error_ply);
}

/* decode_bin(buffer, records) -> (count, error or None, index of the bad record) */
static PyObject *py_decode_bin(PyObject *self, PyObject *args) {
    Py_buffer view, records;
    if (!PyArg_ParseTuple(args, "y*w*", &view, &records)) return NULL;
    Output out = {0};
    int ok = records_out(&records, 0, &out);
    if (ok && out.capacity < (size_t)view.len / 40) {
        PyErr_SetString(PyExc_ValueError, "record buffer smaller than the .bin records");
        ok = 0;
    }
    if (ok) {
        Py_BEGIN_ALLOW_THREADS;
        decode_bin_records(view.buf, (size_t)view.len / 40, &out);
        Py_END_ALLOW_THREADS;
    }
    PyBuffer_Release(&view);
    PyBuffer_Release(&records);
    if (!ok) return NULL;
    return Py_BuildValue("(nNn)", (Py_ssize_t)out.count, error_or_none(out.error),
                         (Py_ssize_t)out.error_at);
}

/* decode_fen(fen, uci, score, ply, result) -> one record (bytes); ValueError if it is bad */
static PyObject *py_decode_fen(PyObject *self, PyObject *args) {
    const char *fen, *uci;
    int score, ply, result;
    if (!PyArg_ParseTuple(args, "ssiii", &fen, &uci, &score, &ply, &result)) return NULL;
    if (!features_ready()) {
        PyErr_SetString(PyExc_RuntimeError, "load_features() was not called");
        return NULL;
    }
    Record record;
    Output out = {&record, 0, 1, 0, 0, 0};
    const char *problem = decode_fen_record(fen, uci, score, ply, result, &out);
    if (problem) {
        PyErr_SetString(PyExc_ValueError, problem);
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)&record, sizeof record);
}

/* load_features(king_base, king_mirror, piece_square): the feature set's tables (board.h
 * FeatureTables, C order) as made by chess/features.py */
static PyObject *py_load_features(PyObject *self, PyObject *args) {
    Py_buffer base, mirror, square;
    if (!PyArg_ParseTuple(args, "y*y*y*", &base, &mirror, &square)) return NULL;
    FeatureTables tables;
    int ok = base.len == sizeof tables.king_base && mirror.len == sizeof tables.king_mirror &&
             square.len == sizeof tables.piece_square;
    if (ok) {
        memcpy(tables.king_base, base.buf, sizeof tables.king_base);
        memcpy(tables.king_mirror, mirror.buf, sizeof tables.king_mirror);
        memcpy(tables.piece_square, square.buf, sizeof tables.piece_square);
        ok = load_features(&tables);
    }
    PyBuffer_Release(&base);
    PyBuffer_Release(&mirror);
    PyBuffer_Release(&square);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "feature tables of the wrong shape or values");
        return NULL;
    }
    Py_RETURN_NONE;
}

static int fen_position(const char *fen, Position *pos) {
    const char *problem = parse_fen(fen, pos);
    if (!problem) problem = position_problem(pos);
    if (problem) PyErr_Format(PyExc_ValueError, "%s: %s", problem, fen);
    return problem == 0;
}

static PyObject *py_perft(PyObject *self, PyObject *args) {
    const char *fen;
    int depth;
    Position pos;
    if (!PyArg_ParseTuple(args, "si", &fen, &depth) || !fen_position(fen, &pos)) return NULL;
    uint64_t nodes;
    Py_BEGIN_ALLOW_THREADS;
    nodes = perft(&pos, depth);
    Py_END_ALLOW_THREADS;
    return PyLong_FromUnsignedLongLong(nodes);
}

static PyObject *py_legal_moves(PyObject *self, PyObject *args) {
    const char *fen;
    Position pos;
    if (!PyArg_ParseTuple(args, "s", &fen) || !fen_position(fen, &pos)) return NULL;
    Move moves[256];
    int count = generate_legal(&pos, moves);
    PyObject *list = PyList_New(count);
    for (int i = 0; list && i < count; i++) {
        char uci[6];
        move_to_uci(moves[i], uci);
        PyList_SET_ITEM(list, i, PyUnicode_FromString(uci));
    }
    return list;
}

static PyObject *py_record_size(PyObject *self, PyObject *args) {
    return PyLong_FromSize_t(sizeof(Record));
}

static PyMethodDef METHODS[] = {
    {"decode_binpack", py_decode_binpack, METH_VARARGS, "binpack chains -> records"},
    {"decode_bin", py_decode_bin, METH_VARARGS, ".bin records -> records"},
    {"decode_fen", py_decode_fen, METH_VARARGS, "FEN, UCI move, score, ply, result -> record"},
    {"load_features", py_load_features, METH_VARARGS, "the feature set's tables"},
    {"perft", py_perft, METH_VARARGS, "leaf nodes of the legal move tree to a depth"},
    {"legal_moves", py_legal_moves, METH_VARARGS, "legal moves of a FEN, UCI"},
    {"record_size", py_record_size, METH_NOARGS, "bytes per record"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_decoder", NULL, -1, METHODS};

PyMODINIT_FUNC PyInit__decoder(void) {
    board_init();
    return PyModule_Create(&MODULE);
}
