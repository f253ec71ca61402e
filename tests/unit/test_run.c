/*
 * The program runner (struct child), the lock file and the three-way merge
 * as a library call.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "gitops.h"
#include "helpers.h"
#include "merge.h"

/* ---- child ---- */

Test(child, feeds_stdin_and_captures_stdout_and_stderr)
{
	struct child c = CHILD_INIT;
	/* More than a pipe holds, so writing and reading must interleave. */
	size_t n = 1 << 20;
	char *in = malloc(n);

	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	child_pushl(&c, "sh", "-c", "cat; echo oops >&2", NULL);
	c.in = in;
	c.in_len = n;
	c.capture_out = c.capture_err = 1;
	cr_assert_eq(child_run(&c), 0);
	cr_assert_eq(c.out.len, n);
	cr_assert(!memcmp(c.out.buf, in, n));
	cr_assert_str_eq(c.err.buf, "oops\n");
	child_release(&c);
	free(in);
}

Test(child, sets_and_unsets_the_environment_and_the_folder)
{
	struct child c = CHILD_INIT;
	const char *env[] = {"CRDTMEM_UNIT_A=one two", "HOME", NULL};

	setenv("HOME", "/nowhere", 1);
	child_pushl(&c, "sh", "-c", "echo \"$CRDTMEM_UNIT_A|${HOME-unset}|$(pwd)\"",
		    NULL);
	c.env = env;
	c.dir = "/";
	c.capture_out = 1;
	cr_assert_eq(child_run(&c), 0);
	cr_assert_str_eq(c.out.buf, "one two|unset|/\n");
	child_release(&c);
}

Test(child, returns_the_exit_status)
{
	struct child c = CHILD_INIT;

	child_pushl(&c, "sh", "-c", "exit 3", NULL);
	cr_assert_eq(child_run(&c), 3);
	cr_assert_eq(c.status, 3);
	child_release(&c);
}

Test(child, a_child_that_ignores_its_input_does_not_kill_us)
{
	struct child c = CHILD_INIT;
	size_t n = 4 << 20;
	char *in = calloc(1, n);

	child_pushl(&c, "true", NULL);
	c.in = in;
	c.in_len = n;
	cr_assert_eq(child_run(&c), 0);
	child_release(&c);
	free(in);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(child, the_timeout_stops_the_child_and_its_children)
{
	struct child c = CHILD_INIT;
	double start = now_s();

	cr_redirect_stderr();
	/* The grandchild holds stdout open: the timeout must still end it. */
	child_pushl(&c, "sh", "-c", "sleep 30 & sleep 30", NULL);
	c.capture_out = 1;
	c.timeout_ms = 300;
	cr_assert_eq(child_run(&c), -1);
	cr_assert(c.timed_out);
	cr_assert_lt(now_s() - start, 5.0, "took %.1f s", now_s() - start);
	child_release(&c);
}

Test(child, the_timeout_comes_from_the_environment)
{
	setenv("CRDTMEM_GIT_TIMEOUT", "7", 1);
	cr_assert_eq(git_timeout_ms(), 7000);
	setenv("CRDTMEM_GIT_TIMEOUT", "soon", 1);
	cr_assert_eq(git_timeout_ms(), GIT_TIMEOUT_MS);
	unsetenv("CRDTMEM_GIT_TIMEOUT");
	cr_assert_eq(git_timeout_ms(), GIT_TIMEOUT_MS);
}

Test(child, a_missing_program_is_an_error)
{
	struct child c = CHILD_INIT;

	cr_redirect_stderr();
	child_pushl(&c, "crdtmem-no-such-program", NULL);
	cr_assert_eq(child_run(&c), -1);
	child_release(&c);
}

Test(child, git_output_trims_the_newline)
{
	struct buf out = BUF_INIT;

	cr_assert_eq(git_output(&out, "/", "-c", "a.b=c", "config", "a.b", NULL), 0);
	cr_assert_str_eq(out.buf, "c");
	buf_release(&out);
}

/* ---- lock file ---- */

static char *scratch(void)
{
	char tmpl[] = "/tmp/crdtmem-unit-XXXXXX";

	cr_assert(mkdtemp(tmpl) != NULL);
	return strdup(tmpl);
}

static void remove_tree(char *dir)
{
	cr_assert_eq(system(tfmt("rm -rf '%s'", dir)), 0);
	free(dir);
}

Test(lockfile, a_second_taker_waits_then_gives_up)
{
	char *dir = scratch();
	const char *path = tfmt("%s/lock", dir);
	struct lockfile a = LOCKFILE_INIT, b = LOCKFILE_INIT;

	cr_redirect_stderr();
	cr_assert_eq(lockfile_take(&a, path, 0), 0);
	cr_assert_eq(access(path, F_OK), 0);
	/* Our own pid is alive, so the lock is not stale. */
	cr_assert_eq(lockfile_take(&b, path, 100), -1);
	lockfile_release(&a);
	cr_assert_neq(access(path, F_OK), 0);
	cr_assert_eq(lockfile_take(&b, path, 0), 0);
	lockfile_release(&b);
	lockfile_release(&b);
	remove_tree(dir);
}

Test(lockfile, a_lock_left_by_a_dead_process_is_taken_over)
{
	char *dir = scratch();
	const char *path = tfmt("%s/lock", dir);
	struct lockfile lk = LOCKFILE_INIT;
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	FILE *f = fopen(path, "w");
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
	cr_redirect_stderr();
	cr_assert_eq(lockfile_take(&lk, path, 0), 0);
	lockfile_release(&lk);
	remove_tree(dir);
}

Test(atomic, mkdir_p_makes_every_level_and_accepts_existing_ones)
{
	char *dir = scratch();
	struct stat st;

	cr_assert_eq(mkdir_p(tfmt("%s/a/b/c", dir)), 0);
	cr_assert_eq(mkdir_p(tfmt("%s/a/b/c", dir)), 0);
	cr_assert_eq(stat(tfmt("%s/a/b/c", dir), &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	remove_tree(dir);
}

/* ---- merge as a library call ---- */

Test(merge, buffers_merge_like_files, .fini = t_cleanup)
{
	const char *o = q("[" ENT("Alice", "person", "'tea'",
				  META("l", "2026-01-01T00:00:00Z", 1)) "]");
	const char *a = q("[" ENT("Alice", "person", "'tea','cake'",
				  META("l", "2026-01-01T00:00:01Z", 2)) "]");
	const char *b =
		q("[" ENT("Alice", "person", "'tea'",
			  META("l", "2026-01-01T00:00:00Z",
			       1)) "," ENT("Bob", "person", "",
					   META("d", "2026-01-01T00:00:02Z", 1)) "]");
	struct merge_bytes sides[3] = {{o, strlen(o)}, {a, strlen(a)}, {b, strlen(b)}};
	struct merge_result res = MERGE_RESULT_INIT;
	struct buf out = BUF_INIT;

	cr_assert_eq(merge_buffers(&res, sides, "memory-x.json"), 0);
	cr_assert_eq(res.format, MEMFILE_ARRAY);
	cr_assert_eq(res.set.nr, 2);
	memfile_serialize(&res.set, res.format, &out);
	cr_assert(strstr(out.buf, "\"cake\"") != NULL);
	cr_assert(strstr(out.buf, "\"Bob\"") != NULL);
	buf_release(&out);
	merge_result_release(&res);
}

Test(merge, bad_sides_are_each_named, .fini = t_cleanup)
{
	const char *good = "[]";
	const char *bad = "[{\"id\":1,}]";
	struct merge_bytes sides[3] = {{bad, strlen(bad)}, {good, 2}, {bad, strlen(bad)}};
	struct merge_result res = MERGE_RESULT_INIT;
	char text[4096] = "";

	cr_redirect_stderr();
	cr_assert_eq(merge_buffers(&res, sides, "memory-x.json"), -1);
	cr_assert(res.bad[MERGE_BASE] && !res.bad[MERGE_OURS] && res.bad[MERGE_THEIRS]);
	merge_result_release(&res);
	fflush(stderr);
	FILE *f = cr_get_redirected_stderr();
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	cr_assert(strstr(text, "error: 'memory-x.json' (base): line 1, column") != NULL,
		  "%s", text);
	cr_assert(strstr(text, "error: 'memory-x.json' (theirs): line 1, column") != NULL,
		  "%s", text);
}
