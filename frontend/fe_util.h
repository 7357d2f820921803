/* fe_util.h - helpers internal to the frontend (onnx.c, npy.c,
 * dataset.c); not part of its interface. */
#ifndef QNNC_FE_UTIL_H
#define QNNC_FE_UTIL_H

#include <stddef.h>

/* snprintf into the caller's error buffer err[n]; nothing when err is
 * NULL or n is 0. */
void fe_set_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read a whole file into a malloc'd buffer (*len bytes). NULL on failure,
 * with "PATH: cannot read: REASON" in err[errlen]. */
unsigned char *fe_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
