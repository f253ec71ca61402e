/*
 * Atomic replacement (write_atomic, memfile_write, memfile_load) in a
 * scratch folder per test.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

static char tmpdir[64];

static void rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *de;

		chmod(path, 0700);
		d = opendir(path);
		if (d) {
			while ((de = readdir(d))) {
				struct buf sub = BUF_INIT;
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				buf_addf(&sub, "%s/%s", path, de->d_name);
				rm_rf(sub.buf);
				buf_release(&sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/crdtmem-unit-XXXXXX");
	cr_assert(mkdtemp(tmpdir) != NULL, "mkdtemp failed");
}

static void remove_tmpdir(void)
{
	t_cleanup();
	rm_rf(tmpdir);
}

TestSuite(write, .init = make_tmpdir, .fini = remove_tmpdir);

static const char *path_in_tmp(const char *name)
{
	return tfmt("%s/%s", tmpdir, name);
}

static void put_file(const char *path, const char *data, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f != NULL, "cannot create %s", path);
	cr_assert_eq(fwrite(data, 1, strlen(data), f), strlen(data));
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, mode), 0);
}

/* The whole file; *len gets its size. */
static const char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;

	cr_assert(f != NULL, "cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return t_defer(buf_detach(&b, NULL), free);
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "cannot stat %s", path);
	return (unsigned)(st.st_mode & 07777);
}

/* Names in dir, sorted and joined with '|'. */
static const char *listing(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[64];
	size_t n = 0;
	struct buf b = BUF_INIT;

	cr_assert(d != NULL);
	while ((de = readdir(d)) && n < 64)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[n++] = strdup(de->d_name);
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
			char *t = names[k];
			names[k] = names[k - 1];
			names[k - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(&b, '|');
		buf_addstr(&b, names[i]);
		free(names[i]);
	}
	return t_defer(buf_detach(&b, NULL), free);
}

Test(write, replaces_content_and_keeps_the_mode)
{
	const char *p = path_in_tmp("memory-a.json");
	const char *data = "{\"id\":\"m1\"}\n";

	put_file(p, "old content that is longer than the new one\n", 0640);
	cr_assert_eq(atomic_write(p, data, strlen(data), 0), 0);
	cr_assert_str_eq(slurp(p, NULL), data);
	cr_assert_eq(mode_of(p), 0640, "mode %o", mode_of(p));
	cr_assert_str_eq(listing(tmpdir), "memory-a.json", "temporary file left behind");
}

Test(write, keeps_other_modes_with_fsync)
{
	static const unsigned modes[] = {0600, 0644, 0755, 0604};

	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		const char *p = path_in_tmp(tfmt("f%zu.json", i));
		put_file(p, "old\n", modes[i]);
		cr_assert_eq(atomic_write(p, "new\n", 4, ATOMIC_FSYNC), 0);
		cr_assert_str_eq(slurp(p, NULL), "new\n");
		cr_assert_eq(mode_of(p), modes[i], "mode %o, expected %o", mode_of(p),
			     modes[i]);
	}
}

Test(write, new_file_gets_0666_less_the_umask)
{
	const char *p = path_in_tmp("new.json");
	mode_t old = umask(027);
	int r = atomic_write(p, "x\n", 2, 0);

	umask(old);
	cr_assert_eq(r, 0);
	cr_assert_eq(mode_of(p), 0640, "mode %o", mode_of(p));
	cr_assert_str_eq(slurp(p, NULL), "x\n");
}

Test(write, writes_bytes_exactly_including_nul_and_empty)
{
	const char *p = path_in_tmp("bin");
	size_t len = 0;

	cr_assert_eq(atomic_write(p, "a\0b", 3, 0), 0);
	const char *got = slurp(p, &len);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(got, "a\0b", 3), 0);
	cr_assert_eq(atomic_write(p, "", 0, ATOMIC_FSYNC), 0);
	slurp(p, &len);
	cr_assert_eq(len, 0);
}

Test(write, one_megabyte_file)
{
	const char *p = path_in_tmp("big");
	char *data = t_defer(malloc(1000001), free);
	size_t len = 0;

	for (size_t i = 0; i < 1000000; i++)
		data[i] = (char)('a' + i % 26);
	data[1000000] = '\0';
	cr_assert_eq(atomic_write(p, data, 1000000, ATOMIC_FSYNC), 0);
	cr_assert_str_eq(slurp(p, &len), data);
	cr_assert_eq(len, 1000000);
}

Test(write, missing_folder_is_reported_and_creates_nothing)
{
	const char *p = path_in_tmp("nope/memory.json");
	char line[512] = "";

	cr_redirect_stderr();
	cr_assert_eq(atomic_write(p, "x", 1, 0), -1);
	fflush(stderr);
	FILE *err = cr_get_redirected_stderr();
	cr_assert(fgets(line, sizeof(line), err) != NULL, "nothing on stderr");
	cr_assert(strncmp(line, "error: ", 7) == 0, "got: %s", line);
	cr_assert_str_eq(listing(tmpdir), "");
}

Test(write, failed_rename_leaves_the_target_and_no_temporary_file)
{
	const char *target = path_in_tmp("target");
	const char *inside = path_in_tmp("target/keep");

	cr_assert_eq(mkdir(target, 0755), 0);
	put_file(inside, "keep\n", 0644);
	cr_redirect_stderr();
	cr_assert_eq(atomic_write(target, "x\n", 2, 0), -1);
	cr_assert_str_eq(listing(tmpdir), "target", "temporary file left behind");
	cr_assert_str_eq(slurp(inside, NULL), "keep\n");
}

Test(write, memfile_write_then_load_round_trips)
{
	const char *p = path_in_tmp("memory-b.json");
	struct memfile *mf = MF("{'id':'m1','content':'c'}\n" ENT0("A", "p", "'y','x'"));
	struct memfile back = MEMFILE_INIT;
	struct buf err = BUF_INIT;

	put_file(p, "old\n", 0640);
	cr_assert_eq(memfile_write(p, &mf->set, MEMFILE_ARRAY, ATOMIC_FSYNC), 0);
	cr_assert_str_eq(slurp(p, NULL), ser(&mf->set, MEMFILE_ARRAY));
	cr_assert_eq(mode_of(p), 0640);
	cr_assert_eq(memfile_load(&back, p, &err), 0, "%s", err.buf);
	cr_assert_eq(back.format, MEMFILE_ARRAY);
	cr_assert_str_eq(ser(&back.set, MEMFILE_ARRAY), ser(&mf->set, MEMFILE_ARRAY));
	memfile_release(&back);
	buf_release(&err);
}

Test(write, memfile_write_of_an_empty_jsonl_set_is_an_empty_file)
{
	const char *p = path_in_tmp("memory-c.json");
	struct entry_set empty = ENTRY_SET_INIT;
	size_t len = 1;

	put_file(p, "{\"a\":1}\n", 0644);
	cr_assert_eq(memfile_write(p, &empty, MEMFILE_JSONL, 0), 0);
	slurp(p, &len);
	cr_assert_eq(len, 0);
}

Test(write, load_reports_line_and_column)
{
	const char *p = path_in_tmp("bad.json");
	struct memfile mf = MEMFILE_INIT;
	struct buf err = BUF_INIT;

	put_file(p, "{\"a\":1}\n{\"a\":1,}\n", 0644);
	cr_assert_eq(memfile_load(&mf, p, &err), -1);
	cr_assert(strstr(err.buf, "line 2, column 8: ") != NULL, "got: %s", err.buf);
	memfile_release(&mf);
	buf_release(&err);
}
