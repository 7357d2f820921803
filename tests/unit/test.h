/* test.h - the unit-test harness: ASSERT macros and a runner. Each
 * tests/unit/test_X.c defines TESTS(X) functions and a main via TEST_MAIN. */
#ifndef QNNC_TEST_H
#define QNNC_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define ASSERT(c)                                                           \
	do {                                                                \
		if (!(c)) {                                                 \
			fprintf(stderr, "%s:%d: ASSERT failed: %s\n", __FILE__, \
				__LINE__, #c);                              \
			test_failures++;                                    \
			return;                                             \
		}                                                           \
	} while (0)

#define ASSERT_NEAR(a, b, tol)                                                  \
	do {                                                                    \
		double a_ = (a), b_ = (b);                                      \
		if (!(fabs(a_ - b_) <= (tol))) {                                \
			fprintf(stderr, "%s:%d: ASSERT_NEAR failed: %s = %.17g, %s = %.17g (tol %g)\n", \
				__FILE__, __LINE__, #a, a_, #b, b_, (double)(tol)); \
			test_failures++;                                        \
			return;                                                 \
		}                                                               \
	} while (0)

#define ASSERT_STR_CONTAINS(hay, needle)                                        \
	do {                                                                    \
		const char *h_ = (hay), *n_ = (needle);                         \
		if (!h_ || !strstr(h_, n_)) {                                   \
			fprintf(stderr, "%s:%d: expected \"%s\" to contain \"%s\"\n", \
				__FILE__, __LINE__, h_ ? h_ : "(null)", n_);    \
			test_failures++;                                        \
			return;                                                 \
		}                                                               \
	} while (0)

/* max |a_i − b_i| and max |a_i| over n doubles; a NaN entry makes the
 * result NaN, so a tolerance check on it fails. */
static inline double max_abs_diff(const double *a, const double *b, int64_t n)
{
	double m = 0;
	for (int64_t i = 0; i < n; i++) {
		double e = fabs(a[i] - b[i]);
		if (!(e <= m))
			m = e;
	}
	return m;
}

static inline double max_abs(const double *a, int64_t n)
{
	double m = 0;
	for (int64_t i = 0; i < n; i++) {
		double e = fabs(a[i]);
		if (!(e <= m))
			m = e;
	}
	return m;
}

typedef struct {
	const char *name;
	void (*fn)(void);
} test_case;

/* Run n cases: one PASS/FAIL line each (flushed, so a crash shows where)
 * and a summary; returns the number that failed. */
static inline int test_run(const test_case *cases, int n)
{
	int failed = 0;
	for (int i = 0; i < n; i++) {
		int before = test_failures;
		cases[i].fn();
		int ok = test_failures == before;
		failed += !ok;
		printf("%s %s\n", ok ? "PASS" : "FAIL", cases[i].name);
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", n - failed, failed);
	return failed;
}

/* TEST_MAIN({"name", fn}, ...): runs all, prints one line each and a summary. */
#define TEST_MAIN(...)                                                        \
	int main(void)                                                        \
	{                                                                     \
		static const test_case cases[] = {__VA_ARGS__};               \
		return test_run(cases, (int)(sizeof cases / sizeof cases[0])) ? 1 : 0; \
	}

#endif
