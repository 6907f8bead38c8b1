/* zeroforge.chess._decoder: the compiled chess decoder's Python face (see data/chess_decoder.py).
 * Inputs are any buffer (bytes, mmap, memoryview); records come back as bytes of Record
 * structs (decode.h), which decoder.py views as a numpy structured array. Decoding runs
 * without the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>

#include "board.h"
#include "decode.h"

static PyObject *records_bytes(Output *out) {
    PyObject *data = PyBytes_FromStringAndSize((const char *)out->records,
                                               (Py_ssize_t)(out->count * sizeof(Record)));
    free(out->records);
    return data;
}

static PyObject *error_or_none(const char *error) {
    if (error) return PyUnicode_FromString(error);
    Py_RETURN_NONE;
}

/* decode_binpack(buffer, offset, limit) -> (records, next offset, error or None, error ply) */
static PyObject *py_decode_binpack(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t offset, limit;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &offset, &limit)) return NULL;
    Output out = {0};
    size_t next;
    Py_BEGIN_ALLOW_THREADS;
    next = decode_binpack_chains(view.buf, (size_t)view.len, (size_t)offset, (size_t)limit, &out);
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&view);
    PyObject *data = records_bytes(&out);
    if (!data) return NULL;
    return Py_BuildValue("(NnNi)", data, (Py_ssize_t)next, error_or_none(out.error),
                         out.error_ply);
}

/* decode_bin(buffer) -> (records, error or None, index of the bad record) */
static PyObject *py_decode_bin(PyObject *self, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    Output out = {0};
    Py_BEGIN_ALLOW_THREADS;
    decode_bin_records(view.buf, (size_t)view.len / 40, &out);
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&view);
    PyObject *data = records_bytes(&out);
    if (!data) return NULL;
    return Py_BuildValue("(NNn)", data, error_or_none(out.error), (Py_ssize_t)out.error_at);
}

/* decode_fen(fen, uci, score, ply, result) -> one record; ValueError if it is bad */
static PyObject *py_decode_fen(PyObject *self, PyObject *args) {
    const char *fen, *uci;
    int score, ply, result;
    if (!PyArg_ParseTuple(args, "ssiii", &fen, &uci, &score, &ply, &result)) return NULL;
    Output out = {0};
    const char *problem = decode_fen_record(fen, uci, score, ply, result, &out);
    if (problem) {
        free(out.records);
        PyErr_SetString(PyExc_ValueError, problem);
        return NULL;
    }
    return records_bytes(&out);
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
