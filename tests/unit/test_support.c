/*
 * The support modules: diagnostics (diag.h), the byte buffer (buf.h) and
 * running git (gitops.h).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "gitops.h"
#include "helpers.h"

TestSuite(diag, .fini = t_cleanup);
TestSuite(buf, .fini = t_cleanup);
TestSuite(git, .fini = t_cleanup);

/* ---- diag ---- */

Test(diag, error_prints_one_prefixed_line_and_returns_minus_one)
{
	cr_redirect_stderr();
	cr_assert_eq(error("'%s' (%s): line %d, column %d: %s", "memory-a.json", "theirs",
			   3, 17, "expected ','"),
		     -1);
	fflush(stderr);
	cr_assert_stderr_eq_str(
		"error: 'memory-a.json' (theirs): line 3, column 17: expected ','\n");
}

Test(diag, warning_prints_one_prefixed_line)
{
	cr_redirect_stderr();
	warning("timestamp of '%s' is more than a day ahead", "x");
	fflush(stderr);
	cr_assert_stderr_eq_str("warning: timestamp of 'x' is more than a day ahead\n");
}

Test(diag, die_prints_fatal_and_exits_with_1, .exit_code = 1)
{
	cr_redirect_stderr();
	die("out of %s", "memory");
}

/* Status 1, not abort()'s 134: git aborts a whole merge above 128. */
Test(diag, bug_prints_and_exits_with_1, .exit_code = 1)
{
	cr_redirect_stderr();
	BUG("cannot happen: %d", 42);
}

Test(diag, x_allocators_return_usable_memory)
{
	char *p = xmalloc(16);
	char *z = xcalloc(4, 4);
	char *d = xstrdup("abc");
	char *m = xmemdup0("abcdef", 3);

	memset(p, 'x', 16);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(z[i], 0);
	p = xrealloc(p, 1 << 20);
	cr_assert_eq(p[15], 'x');
	cr_assert_str_eq(d, "abc");
	cr_assert_str_eq(m, "abc");
	free(p);
	free(z);
	free(d);
	free(m);
}

/* ---- buf ---- */

Test(buf, starts_as_an_empty_string)
{
	struct buf b = BUF_INIT;

	cr_assert_not_null(b.buf);
	cr_assert_str_eq(b.buf, "");
	cr_assert_eq(b.len, 0);
	buf_release(&b);
	cr_assert_str_eq(b.buf, "");
}

Test(buf, appends_and_stays_nul_terminated)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "ab");
	buf_addch(&b, 'c');
	buf_add(&b, "de\0f", 4);
	cr_assert_eq(b.len, 7);
	cr_assert_eq(memcmp(b.buf, "abcde\0f", 8), 0);
	buf_addf(&b, "%d-%s", 42, "x");
	cr_assert_eq(b.len, 11);
	cr_assert_str_eq(b.buf + 7, "42-x");
	buf_release(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.alloc, 0);
}

Test(buf, addf_grows_for_long_output)
{
	struct buf b = BUF_INIT;
	char *big = t_defer(malloc(100001), free);

	memset(big, 'y', 100000);
	big[100000] = '\0';
	buf_addstr(&b, "<");
	buf_addf(&b, "%s>", big);
	cr_assert_eq(b.len, 100002);
	cr_assert_eq(b.buf[0], '<');
	cr_assert_eq(b.buf[100001], '>');
	cr_assert_eq(b.buf[100002], '\0');
	buf_release(&b);
}

Test(buf, detach_hands_over_the_bytes)
{
	struct buf b = BUF_INIT;
	size_t len = 0;

	buf_addstr(&b, "hello");
	char *s = buf_detach(&b, &len);
	cr_assert_str_eq(s, "hello");
	cr_assert_eq(len, 5);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.buf, "");
	free(s);
	s = buf_detach(&b, &len);
	cr_assert_not_null(s, "detaching an empty buffer gives a string to free");
	cr_assert_str_eq(s, "");
	free(s);
}

Test(buf, setlen_and_reset_keep_the_terminator)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 4);
	buf_addstr(&b, "abcdef");
	buf_setlen(&b, 2);
	cr_assert_str_eq(b.buf, "ab");
	buf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.buf, "");
	buf_grow(&b, 1000);
	cr_assert_geq(b.alloc, 1001);
	cr_assert_eq(b.len, 0);
	buf_release(&b);
}

/* ---- git ---- */

Test(git, run_captures_stdout)
{
	const char *argv[] = {"--version", NULL};
	struct buf out = BUF_INIT;

	cr_assert_eq(git_run(argv, &out, GIT_TIMEOUT_MS), 0);
	cr_assert(strncmp(out.buf, "git version ", 12) == 0, "got: %s", out.buf);
	buf_release(&out);
}

Test(git, run_returns_gits_exit_status)
{
	const char *argv[] = {"config", "--get", "crdtmem-unit-test.no-such-key", NULL};

	cr_assert_eq(git_run(argv, NULL, GIT_TIMEOUT_MS), 1);
}

Test(git, run_passes_arguments_without_a_shell)
{
	const char *argv[] = {
		"-c", "crdtmem.x=a b;$(echo c)", "config", "--get", "crdtmem.x", NULL};
	struct buf out = BUF_INIT;

	cr_assert_eq(git_run(argv, &out, GIT_TIMEOUT_MS), 0);
	cr_assert_str_eq(out.buf, "a b;$(echo c)\n");
	buf_release(&out);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(git, run_gives_up_after_the_timeout)
{
	const char *argv[] = {"-c", "alias.crdtmem-sleep=!sleep 5", "crdtmem-sleep",
			      NULL};
	struct buf out = BUF_INIT;
	double start = now_s();

	cr_redirect_stderr();
	cr_assert_eq(git_run(argv, &out, 300), -1);
	cr_assert_lt(now_s() - start, 4.0, "took %.1f s: the timeout did not stop git",
		     now_s() - start);
	buf_release(&out);
}

Test(git, dir_is_the_absolute_git_dir)
{
	char tmpl[] = "/tmp/crdtmem-git-XXXXXX";
	char real[PATH_MAX];
	const char *init[] = {"init", "-q", NULL};
	struct buf dir = BUF_INIT;

	cr_assert(mkdtemp(tmpl) != NULL);
	cr_assert_eq(chdir(tmpl), 0);
	cr_assert(getcwd(real, sizeof(real)) != NULL);
	cr_assert_eq(git_run(init, NULL, GIT_TIMEOUT_MS), 0);
	cr_assert_eq(git_dir(&dir), 0);
	cr_assert_str_eq(dir.buf, tfmt("%s/.git", real));
	buf_release(&dir);
	cr_assert_eq(system(tfmt("rm -rf '%s'", tmpl)), 0);
}
