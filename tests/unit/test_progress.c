/* test_progress.c - the progress bar: the line format, and silence when
 * the stream is not a terminal or the caller is quiet. (The terminal path
 * itself is exercised by hand: it needs a tty.) */
#include <stdio.h>
#include <string.h>

#include "../../passes/progress.h"
#include "test.h"

static void test_format(void)
{
	char buf[256];
	progress_format(buf, sizeof buf, "eval", 4500, 10000, 12.34, "acc 97.1%", 10);
	ASSERT(!strcmp(buf, "eval [====>     ]  45% 4500/10000  12.3 s  eta 15.1 s  acc 97.1%"));
	progress_format(buf, sizeof buf, NULL, 0, 8, 0.0, NULL, 4);
	ASSERT(!strcmp(buf, "[>   ]   0% 0/8  0.0 s"));
	progress_format(buf, sizeof buf, "", 8, 8, 2.0, "", 4);
	ASSERT(!strcmp(buf, "[====] 100% 8/8  2.0 s"));
	/* More than the total is shown as full; unknown total is a counter. */
	progress_format(buf, sizeof buf, "x", 9, 8, 1.0, NULL, 4);
	ASSERT_STR_CONTAINS(buf, "[====] 100% 9/8");
	progress_format(buf, sizeof buf, "sweep", 17, 0, 1.5, "err 1e-3", 10);
	ASSERT(!strcmp(buf, "sweep 17  1.5 s  err 1e-3"));
	/* Truncation is snprintf's: the would-be length comes back. */
	int n = progress_format(buf, 8, "eval", 1, 2, 0.0, NULL, 10);
	ASSERT(n > 8 && strlen(buf) == 7);
}

static void test_silent_off_terminal(void)
{
	FILE *f = tmpfile();
	ASSERT(f);
	progress p;
	for (int quiet = 0; quiet < 2; quiet++) {
		progress_start(&p, f, "eval", 100, quiet);
		for (int i = 0; i <= 100; i++)
			progress_update(&p, i, "acc %.1f%%", 50.0);
		progress_finish(&p, 1, "acc %.1f%%", 50.0);
		progress_start(&p, f, NULL, 0, quiet);
		progress_update(&p, 3, NULL);
		progress_finish(&p, 0, NULL);
	}
	fflush(f);
	ASSERT(ftell(f) == 0);
	fclose(f);
	/* Quiet on a possible terminal: nothing either (and no crash on NULL). */
	progress_start(&p, stderr, "x", 1, 1);
	ASSERT(p.out == NULL);
	progress_start(&p, NULL, "x", 1, 0);
	progress_update(&p, 1, NULL);
	progress_finish(&p, 1, NULL);
	ASSERT(p.out == NULL);
}

TEST_MAIN({"format", test_format}, {"silent_off_terminal", test_silent_off_terminal})
