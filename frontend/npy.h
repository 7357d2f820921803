/* npy.h - NumPy .npy files for --matrix: read a 1-D or 2-D numeric array
 * as a row-major double matrix, write one back (float64 or float32).
 *
 * Reads format versions 1.0, 2.0 and 3.0; dtypes float16/32/64, signed and
 * unsigned integers of 1, 2, 4, 8 bytes and bool, little or big endian;
 * C or Fortran order. A 1-D array of length n is one row (1×n). Nothing
 * here aborts on bad input: errors come back as messages naming the file.
 */
#ifndef QNNC_NPY_H
#define QNNC_NPY_H

#include <stddef.h>
#include <stdint.h>

typedef enum npy_dtype { NPY_F64, NPY_F32 } npy_dtype;

/* Read path into a malloc'd rows×cols row-major matrix (caller frees).
 * NULL with err on failure. Values are converted exactly (integers above
 * 2^53 round); NaN and infinities are passed through. */
double *npy_read_matrix(const char *path, int64_t *rows, int64_t *cols, char *err, size_t errlen);

/* Same, from the bytes of a whole file in memory; source names it in
 * messages. */
double *npy_parse_matrix(const void *buf, size_t len, const char *source, int64_t *rows,
			 int64_t *cols, char *err, size_t errlen);

/* Write a rows×cols row-major matrix as a C-order 2-D array, format 1.0,
 * little endian, via a temporary file renamed into place. For NPY_F32 a
 * finite value outside float range is an error. 0 or -1 with err. */
int npy_write_matrix(const char *path, const double *a, int64_t rows, int64_t cols,
		     npy_dtype dtype, char *err, size_t errlen);

#endif
