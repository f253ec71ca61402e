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
#include "memrepo.h"
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

Test(child, several_run_side_by_side_each_with_its_own_result)
{
	struct child a = CHILD_INIT, b = CHILD_INIT, c = CHILD_INIT;
	struct child *all[] = {&a, &b, &c};
	double start = now_s();

	/* Each waits for the others' marks: only side by side do they end. */
	const char *dir = "/tmp";
	char mark[64];
	snprintf(mark, sizeof(mark), "%s/crdtmem-unit-%ld", dir, (long)getpid());
	child_pushl(
		&a, "sh", "-c",
		"touch \"$0.a\"; while [ ! -e \"$0.b\" ]; do sleep 0.01; done; echo A",
		mark, NULL);
	child_pushl(
		&b, "sh", "-c",
		"touch \"$0.b\"; while [ ! -e \"$0.a\" ]; do sleep 0.01; done; exit 4",
		mark, NULL);
	child_pushl(&c, "sh", "-c", "cat; echo err >&2", NULL);
	a.capture_out = 1;
	a.timeout_ms = b.timeout_ms = 10000;
	c.in = "piped";
	c.in_len = 5;
	c.capture_out = c.capture_err = 1;
	cr_assert_eq(child_run_all(all, 3), 0);
	cr_assert_str_eq(a.out.buf, "A\n");
	cr_assert_eq(a.status, 0);
	cr_assert_eq(b.status, 4);
	cr_assert_str_eq(c.out.buf, "piped");
	cr_assert_str_eq(c.err.buf, "err\n");
	cr_assert_lt(now_s() - start, 9.0);
	unlink(tfmt("%s.a", mark));
	unlink(tfmt("%s.b", mark));
	child_release(&a);
	child_release(&b);
	child_release(&c);
}

Test(child, one_that_cannot_run_fails_the_batch_and_the_others_still_finish)
{
	struct child a = CHILD_INIT, b = CHILD_INIT;
	struct child *all[] = {&a, &b};

	cr_redirect_stderr();
	child_pushl(&a, "crdtmem-no-such-program", NULL);
	child_pushl(&b, "sh", "-c", "echo fine", NULL);
	b.capture_out = 1;
	cr_assert_eq(child_run_all(all, 2), -1);
	cr_assert_eq(a.status, -1);
	cr_assert_eq(b.status, 0);
	cr_assert_str_eq(b.out.buf, "fine\n");
	child_release(&a);
	child_release(&b);
}

Test(child, a_missing_folder_is_named)
{
	struct child c = CHILD_INIT;

	cr_redirect_stderr();
	child_pushl(&c, "true", NULL);
	c.dir = "/crdtmem-no-such-folder";
	cr_assert_eq(child_run(&c), -1);
	fflush(stderr);
	cr_assert_stderr_eq_str(
		"error: cannot change to '/crdtmem-no-such-folder': No such "
		"file or directory\n");
	child_release(&c);
}

struct pieces {
	struct buf all;
	size_t calls;
};

static void collect(void *data, const char *p, size_t n)
{
	struct pieces *got = data;

	buf_add(&got->all, p, n);
	got->calls++;
}

Test(child, a_sink_gets_every_byte_in_order_and_out_stays_empty)
{
	struct child c = CHILD_INIT;
	struct pieces got = {BUF_INIT, 0};

	/* 3 MiB: more than one read, more than a pipe holds. */
	child_pushl(&c, "sh", "-c", "head -c 3145728 /dev/zero | tr '\\0' 'x'; echo end",
		    NULL);
	c.capture_out = 1;
	c.out_sink = collect;
	c.sink_data = &got;
	cr_assert_eq(child_run(&c), 0);
	cr_assert_eq(got.all.len, 3145728 + 4);
	cr_assert_eq(got.all.buf[0], 'x');
	cr_assert_eq(got.all.buf[3145727], 'x');
	cr_assert_str_eq(got.all.buf + 3145728, "end\n");
	cr_assert_gt(got.calls, 1);
	cr_assert_eq(c.out.len, 0);
	buf_release(&got.all);
	child_release(&c);
}

Test(child, work_goes_on_between_start_and_finish)
{
	struct child c = CHILD_INIT;

	child_pushl(&c, "sh", "-c", "echo started", NULL);
	c.capture_out = 1;
	cr_assert_eq(child_start(&c), 0);
	cr_assert_not_null(c.run);
	cr_assert_eq(child_finish(&c), 0);
	cr_assert_null(c.run);
	cr_assert_str_eq(c.out.buf, "started\n");
	child_release(&c);
}

Test(child, a_command_finished_before_anyone_waits_is_not_timed_out)
{
	struct child c = CHILD_INIT;
	struct timespec pause = {0, 600 * 1000 * 1000};

	child_pushl(&c, "sh", "-c", "echo done", NULL);
	c.capture_out = 1;
	c.timeout_ms = 300;
	cr_assert_eq(child_start(&c), 0);
	nanosleep(&pause, NULL); /* other work, longer than the timeout */
	cr_assert_eq(child_finish(&c), 0);
	cr_assert_not(c.timed_out);
	cr_assert_str_eq(c.out.buf, "done\n");
	child_release(&c);
}

/* ---- file_holds ---- */

Test(atomic, file_holds_compares_the_whole_file)
{
	char path[] = "/tmp/crdtmem-unit-holds-XXXXXX";
	int fd = mkstemp(path), exists;
	size_t n = 200000; /* more than one piece */
	char *data = malloc(n);

	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7);
	cr_assert_geq(fd, 0);
	cr_assert_eq(atomic_write_full(fd, data, n), 0);
	close(fd);
	cr_assert(file_holds(path, data, n, &exists));
	cr_assert(exists);
	cr_assert_not(file_holds(path, data, n - 1, &exists), "shorter");
	data[n - 1] ^= 1;
	cr_assert_not(file_holds(path, data, n, &exists), "last byte differs");
	data[n - 1] ^= 1;
	data[70000] ^= 1;
	cr_assert_not(file_holds(path, data, n, &exists), "a byte in the second piece");
	unlink(path);
	cr_assert_not(file_holds(path, data, n, &exists));
	cr_assert_not(exists);
	free(data);
}

Test(atomic, a_prepared_replacement_changes_nothing_until_committed)
{
	char *dir = NULL;
	char tmpl[] = "/tmp/crdtmem-unit-prep-XXXXXX";
	struct atomic_pending p, q;
	struct buf now = BUF_INIT;
	struct stat st;

	cr_assert_not_null(mkdtemp(tmpl));
	dir = tmpl;
	const char *path = tfmt("%s/memory-a.json", dir);
	cr_assert_eq(atomic_write(path, "old\n", 4, 0), 0);
	cr_assert_eq(chmod(path, 0640), 0);

	cr_assert_eq(atomic_prepare_bytes(&p, path, "new\n", 4, ATOMIC_FSYNC), 0);
	cr_assert_not_null(p.tmp);
	cr_assert_eq(read_whole_file(path, &now), 0);
	cr_assert_str_eq(now.buf, "old\n", "the target must wait for the commit");
	cr_assert_eq(atomic_commit(&p), 0);
	cr_assert_null(p.tmp);
	buf_reset(&now);
	cr_assert_eq(read_whole_file(path, &now), 0);
	cr_assert_str_eq(now.buf, "new\n");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);

	cr_assert_eq(atomic_prepare_bytes(&q, path, "dropped\n", 8, 0), 0);
	char *tmp = strdup(q.tmp);
	atomic_abort(&q);
	cr_assert_neq(access(tmp, F_OK), 0, "the temporary file must go");
	buf_reset(&now);
	cr_assert_eq(read_whole_file(path, &now), 0);
	cr_assert_str_eq(now.buf, "new\n");
	free(tmp);
	buf_release(&now);
	cr_assert_eq(system(tfmt("rm -rf '%s'", dir)), 0);
}

/* ---- reading blobs in a batch ---- */

Test(memrepo, a_batch_of_blobs_comes_back_whole_and_in_order)
{
	char tmpl[] = "/tmp/crdtmem-unit-blobs-XXXXXX";
	cr_assert_not_null(mkdtemp(tmpl));
	const char *dir = tmpl;
	struct blob_store store = BLOB_STORE_INIT;
	struct buf big = BUF_INIT;
	struct blob b[8];
	char oid[6][72];
	const char *text[6] = {"", "one\n", NULL, "three", "{\"x\":4}\n", "five"};

	cr_assert_eq(system(tfmt("git init -q '%s'", dir)), 0);
	for (size_t i = 0; i < 1500000; i++)
		buf_addch(&big, (char)('a' + i % 23));
	text[2] = big.buf; /* larger than a pipe and than one read */
	for (int i = 0; i < 6; i++) {
		struct child c = CHILD_INIT;
		child_git(&c, "hash-object", "-w", "--stdin", NULL);
		c.dir = dir;
		c.in = text[i];
		c.in_len = strlen(text[i]);
		c.capture_out = 1;
		cr_assert_eq(child_run(&c), 0);
		snprintf(oid[i], sizeof(oid[i]), "%.40s", c.out.buf);
		child_release(&c);
	}
	/* Eight names, two missing: one in the middle, one with spaces. */
	for (int i = 0, k = 0; i < 8; i++)
		b[i] = (struct blob){i == 3   ? "0000000000000000000000000000000000000001"
				     : i == 6 ? "HEAD:mem dir/a b.json"
					      : oid[k++],
				     0, "", NULL, 0};
	cr_assert_eq(memrepo_read_blobs(dir, b, 8, &store), 0);
	for (int i = 0, k = 0; i < 8; i++) {
		if (i == 3 || i == 6) {
			cr_assert_not(b[i].found);
			continue;
		}
		cr_assert(b[i].found, "blob %d", i);
		cr_assert_str_eq(b[i].oid, oid[k]);
		cr_assert_eq(b[i].len, strlen(text[k]), "blob %d", i);
		cr_assert(!memcmp(b[i].data, text[k], b[i].len), "blob %d", i);
		k++;
	}
	blob_store_release(&store);
	buf_release(&big);
	cr_assert_eq(system(tfmt("rm -rf '%s'", dir)), 0);
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
