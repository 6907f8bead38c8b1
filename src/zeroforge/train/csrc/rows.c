/* zeroforge.train._rows: Ranger's (RAdam's) update of the touched rows of one weight, in one
 * pass over each row (train/ranger.py): the torch version of the same arithmetic makes about
 * fifteen passes over gathered copies, and the update of a lazy NNUE step is memory-bound.
 *
 * rows_update(weight, exp_avg, exp_avg_sq, grad, rows, beta1, beta2, eps, step_size,
 *             rectified, decay)
 *   weight, exp_avg, exp_avg_sq: float32 [R, C], C-contiguous, updated in place
 *   grad: float32 [U, C], the gradient of rows[0..U-1]; rows: int64 [U], each in [0, R)
 *   per element of a listed row, as torch's lerp_ / mul_ + addcmul_ / addcdiv_ compute it:
 *     w *= decay;  m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g g
 *     w += -step_size m / (sqrt(v) + eps)   (rectified; else w += -step_size m)
 *   rows unique (a coalesced gradient's).
 *
 * rows_lookahead(weight, slow, rows, columns, alpha): Lookahead's sync of the listed rows of
 * two float32 [R, columns] tensors, in place: slow <- lerp(slow, w, alpha);  w <- slow
 *
 * lerp(a, b, t) is torch's: a + t (b - a) for |t| < 0.5, else b - (b - a) (1 - t).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

static inline float lerp(float a, float b, float t) {
    return fabsf(t) < 0.5f ? a + t * (b - a) : b - (b - a) * (1.0f - t);
}

static void update_row(float *restrict w, float *restrict m, float *restrict v,
                       const float *restrict g, Py_ssize_t columns, float beta1, float beta2,
                       float eps, float step, int rectified, float decay) {
    const float rest1 = 1.0f - beta1, rest2 = 1.0f - beta2;
    for (Py_ssize_t j = 0; j < columns; j++) {
        float mj = lerp(m[j], g[j], rest1);
        float vj = v[j] * beta2 + rest2 * g[j] * g[j];
        float wj = w[j] * decay;
        w[j] = rectified ? wj + -step * (mj / (sqrtf(vj) + eps)) : wj + -step * mj;
        m[j] = mj;
        v[j] = vj;
    }
}

static PyObject *rows_update(PyObject *self, PyObject *args) {
    Py_buffer weight, exp_avg, exp_avg_sq, grad, rows;
    double beta1, beta2, eps, step, decay;
    int rectified;
    if (!PyArg_ParseTuple(args, "w*w*w*y*y*ddddpd", &weight, &exp_avg, &exp_avg_sq, &grad, &rows,
                          &beta1, &beta2, &eps, &step, &rectified, &decay))
        return NULL;
    Py_ssize_t count = rows.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t columns = count ? grad.len / (Py_ssize_t)sizeof(float) / count : 0;
    Py_ssize_t total = weight.len / (Py_ssize_t)sizeof(float);
    const char *error = NULL;
    if (exp_avg.len != weight.len || exp_avg_sq.len != weight.len)
        error = "weight and moments differ in size";
    else if (count && (columns == 0 || grad.len != count * columns * (Py_ssize_t)sizeof(float) ||
                       total % columns != 0))
        error = "grad is not [rows, columns] of the weight's columns";
    const int64_t *row = rows.buf;
    for (Py_ssize_t i = 0; !error && i < count; i++)
        if (row[i] < 0 || row[i] >= total / columns) error = "row index out of range";
    if (!error) {
        float *w = weight.buf, *m = exp_avg.buf, *v = exp_avg_sq.buf;
        const float *g = grad.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t at = (Py_ssize_t)row[i] * columns;
            update_row(w + at, m + at, v + at, g + i * columns, columns, (float)beta1,
                       (float)beta2, (float)eps, (float)step, rectified, (float)decay);
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&weight);
    PyBuffer_Release(&exp_avg);
    PyBuffer_Release(&exp_avg_sq);
    PyBuffer_Release(&grad);
    PyBuffer_Release(&rows);
    if (error) {
        PyErr_SetString(PyExc_ValueError, error);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *rows_lookahead(PyObject *self, PyObject *args) {
    Py_buffer weight, slow, rows;
    Py_ssize_t columns;
    double alpha;
    if (!PyArg_ParseTuple(args, "w*w*y*nd", &weight, &slow, &rows, &columns, &alpha)) return NULL;
    Py_ssize_t count = rows.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t total = weight.len / (Py_ssize_t)sizeof(float);
    const int64_t *row = rows.buf;
    const char *error = NULL;
    if (slow.len != weight.len)
        error = "weight and slow weights differ in size";
    else if (columns <= 0 || total % columns != 0)
        error = "columns does not divide the weight";
    for (Py_ssize_t i = 0; !error && i < count; i++)
        if (row[i] < 0 || row[i] >= total / columns) error = "row index out of range";
    if (!error) {
        float *w = weight.buf, *s = slow.buf;
        const float a = (float)alpha;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < count; i++) {
            float *wi = w + (Py_ssize_t)row[i] * columns, *si = s + (Py_ssize_t)row[i] * columns;
            for (Py_ssize_t j = 0; j < columns; j++) {
                float sj = lerp(si[j], wi[j], a);
                si[j] = sj;
                wi[j] = sj;
            }
        }
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&weight);
    PyBuffer_Release(&slow);
    PyBuffer_Release(&rows);
    if (error) {
        PyErr_SetString(PyExc_ValueError, error);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef METHODS[] = {
    {"rows_update", rows_update, METH_VARARGS, "Ranger's update of the listed rows, in place."},
    {"rows_lookahead", rows_lookahead, METH_VARARGS, "Lookahead's sync of the listed rows."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_rows", NULL, -1, METHODS};

PyMODINIT_FUNC PyInit__rows(void) { return PyModule_Create(&MODULE); }
