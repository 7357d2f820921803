/* fe_util.c - helpers internal to the frontend (see fe_util.h). */
#include "fe_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fe_set_err(char *err, size_t n, const char *fmt, ...)
{
	if (!err || !n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

unsigned char *fe_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fe_set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		unsigned char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	int bad = buf ? ferror(f) : 0, e = errno;
	fclose(f);
	if (!buf || bad) {
		fe_set_err(err, errlen, "%s: cannot read: %s", path, buf ? strerror(e) : "out of memory");
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
