/* progress.c - the terminal progress bar (see progress.h). The line is
 * redrawn in place with "\r" and cleared to the end with ESC[K, and cut to
 * the terminal width so it never wraps (a wrapped line cannot be redrawn). */
#include "progress.h"

#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_BAR_WIDTH 24
#define PROGRESS_INTERVAL 0.1 /* seconds between redraws */

double progress_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int terminal_columns(FILE *out)
{
#ifdef TIOCGWINSZ
	struct winsize ws;
	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
#endif
	return 80;
}

int progress_format(char *buf, size_t n, const char *label, int64_t done, int64_t total,
		    double seconds, const char *suffix, int width)
{
	char bar[256];
	size_t len = 0;
	if (width > (int)sizeof bar - 3)
		width = (int)sizeof bar - 3;
	double frac = total <= 0 || done <= 0 ? 0.0 : done >= total ? 1.0 : (double)done / (double)total;
	int pct = (int)(frac * 100.0);
	if (total > 0 && width > 0) {
		int fill = (int)(frac * width);
		bar[len++] = '[';
		for (int i = 0; i < width; i++)
			bar[len++] = i < fill ? '=' : i == fill ? '>' : ' ';
		bar[len++] = ']';
	}
	bar[len] = '\0';
	char eta[32] = "";
	if (total > 0 && done > 0 && done < total)
		snprintf(eta, sizeof eta, "  eta %.1f s", seconds * (double)(total - done) / (double)done);
	int has_label = label && *label, has_suffix = suffix && *suffix;
	if (total > 0)
		return snprintf(buf, n, "%s%s%s %3d%% %lld/%lld  %.1f s%s%s%s", has_label ? label : "",
				has_label ? " " : "", bar, pct, (long long)done, (long long)total,
				seconds, eta, has_suffix ? "  " : "", has_suffix ? suffix : "");
	/* Unknown total: a counter only. */
	return snprintf(buf, n, "%s%s%lld  %.1f s%s%s", has_label ? label : "", has_label ? " " : "",
			(long long)done, seconds, has_suffix ? "  " : "", has_suffix ? suffix : "");
}

void progress_start(progress *p, FILE *out, const char *label, int64_t total, int quiet)
{
	memset(p, 0, sizeof *p);
	if (!quiet && out && isatty(fileno(out)))
		p->out = out;
	if (label)
		snprintf(p->label, sizeof p->label, "%s", label);
	p->total = total > 0 ? total : 0;
	p->t0 = progress_now();
	p->last = p->t0 - 2 * PROGRESS_INTERVAL; /* the first update draws */
}

static void draw(progress *p, double t, const char *fmt, va_list ap)
{
	char suffix[160] = "", line[512];
	if (fmt)
		vsnprintf(suffix, sizeof suffix, fmt, ap);
	progress_format(line, sizeof line, p->label, p->done, p->total, t - p->t0, suffix,
			PROGRESS_BAR_WIDTH);
	int cols = terminal_columns(p->out);
	/* Leave the last column free: writing into it wraps on some terminals. */
	if (cols > 1 && cols - 1 < (int)sizeof line)
		line[cols - 1] = '\0';
	fprintf(p->out, "\r%s\033[K", line);
	fflush(p->out);
	p->last = t;
	p->drawn = 1;
}

void progress_update(progress *p, int64_t done, const char *fmt, ...)
{
	if (!p->out)
		return;
	p->done = done;
	double t = progress_now();
	if (t - p->last < PROGRESS_INTERVAL)
		return;
	va_list ap;
	va_start(ap, fmt);
	draw(p, t, fmt, ap);
	va_end(ap);
}

void progress_finish(progress *p, int keep, const char *fmt, ...)
{
	if (!p->out)
		return;
	if (keep) {
		va_list ap;
		va_start(ap, fmt);
		draw(p, progress_now(), fmt, ap);
		va_end(ap);
		fputc('\n', p->out);
	} else if (p->drawn) {
		fputs("\r\033[K", p->out);
	}
	fflush(p->out);
	p->out = NULL;
}
