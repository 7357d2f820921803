/* progress.h - a one-line progress bar for long loops (evaluation,
 * healing, sweeps), drawn on a terminal only:
 *
 *     eval [=========>          ]  45% 4500/10000  12.3 s  acc 97.1%
 *
 * The bar is live only when the stream is a terminal and the caller is
 * not quiet (-q); otherwise every call is a no-op and nothing at all is
 * written, so logs and pipes stay clean. Redraws are limited to about ten
 * per second, so updating on every sample is cheap.
 */
#ifndef QNNC_PROGRESS_H
#define QNNC_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress {
	FILE *out;        /* NULL when disabled */
	char label[32];
	int64_t total, done;
	double t0, last;  /* start and last redraw, seconds (monotonic) */
	int drawn;        /* a line is on screen */
} progress;

/* Start a bar for total steps on out (normally stderr); disabled when
 * quiet is set or out is not a terminal. label may be NULL. */
void progress_start(progress *p, FILE *out, const char *label, int64_t total, int quiet);

/* Record done steps and redraw if at least 0.1 s passed since the last
 * redraw. fmt (may be NULL) formats a free-form suffix such as "acc 97.1%";
 * it is only formatted when the line is actually drawn. */
void progress_update(progress *p, int64_t done, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Draw the final state with its suffix and end the line with a newline
 * (keep = 1), or erase the line (keep = 0). The bar is then disabled. */
void progress_finish(progress *p, int keep, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Format one bar line (no "\r", no newline) into buf; width is the bar's
 * inner width in characters. Returns the length snprintf would produce.
 * Exposed for tests. */
int progress_format(char *buf, size_t n, const char *label, int64_t done, int64_t total,
		    double seconds, const char *suffix, int width);

/* Monotonic wall-clock seconds (CLOCK_MONOTONIC): the one clock the
 * passes and the driver time their steps with. */
double progress_now(void);

#endif
