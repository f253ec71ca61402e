/*
 * The parts of the setup that need no git: quoting the driver command for
 * git's shell, reading back the program a driver command runs, telling our
 * hooks from others, and the hook texts the binary carries from hooks/.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "setup.h"

/* Create path holding a line, with the mode. Returns 0 or -1. */
static int write_file(const char *path, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs("#!/bin/sh\n", f);
	if (fclose(f))
		return -1;
	return chmod(path, mode);
}

static char *sq(const char *s)
{
	struct buf b = BUF_INIT;

	setup_sq(&b, s);
	return buf_detach(&b, NULL);
}

Test(setup, quotes_a_path_for_the_shell_with_quotes_escaped)
{
	char *a = sq("/usr/bin/git-merge-crdtmem"), *b = sq("/o'neil/my bin/x");

	cr_assert_str_eq(a, "'/usr/bin/git-merge-crdtmem'");
	cr_assert_str_eq(b, "'/o'\\''neil/my bin/x'");
	free(a);
	free(b);
}

Test(setup, driver_command_is_the_quoted_path_then_git_placeholders)
{
	struct buf b = BUF_INIT;

	setup_driver_command(&b, "/opt/my tools/git-merge-crdtmem");
	cr_assert_str_eq(b.buf, "'/opt/my tools/git-merge-crdtmem' %O %A %B %L %P");
	buf_release(&b);
}

Test(setup, the_program_of_a_driver_command_round_trips_through_quoting)
{
	const char *paths[] = {"/a/git-merge-crdtmem", "/my dir/git-merge-crdtmem",
			       "/it's/git-merge-crdtmem",
			       "/x\"y/$HOME/git-merge-crdtmem"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		struct buf cmd = BUF_INIT;
		char *prog;

		setup_driver_command(&cmd, paths[i]);
		prog = setup_command_program(cmd.buf);
		cr_assert_not_null(prog, "%s", cmd.buf);
		cr_assert_str_eq(prog, paths[i]);
		cr_assert(setup_driver_is_ours(cmd.buf));
		free(prog);
		buf_release(&cmd);
	}
}

Test(setup, reads_unquoted_double_quoted_and_backslashed_words)
{
	char *a = setup_command_program("git-merge-crdtmem %O %A %B");
	char *b = setup_command_program("  \"/my dir\"/git-merge-crdtmem %O");
	char *c = setup_command_program("/my\\ dir/git-merge-crdtmem");

	cr_assert_str_eq(a, "git-merge-crdtmem");
	cr_assert_str_eq(b, "/my dir/git-merge-crdtmem");
	cr_assert_str_eq(c, "/my dir/git-merge-crdtmem");
	free(a);
	free(b);
	free(c);
}

Test(setup, foreign_or_unreadable_driver_commands_are_not_ours)
{
	cr_assert_not(setup_driver_is_ours("my-merger %O %A %B"));
	cr_assert_not(setup_driver_is_ours("valgrind -q git-merge-crdtmem %O %A %B"));
	cr_assert_not(setup_driver_is_ours("/bin/git-merge-crdtmem-old %O %A %B"));
	cr_assert_not(setup_driver_is_ours("$HOME/bin/git-merge-crdtmem %O"));
	cr_assert_not(setup_driver_is_ours("'/unterminated/git-merge-crdtmem"));
	cr_assert_not(setup_driver_is_ours(""));
	cr_assert(setup_driver_is_ours("git-merge-crdtmem %O %A %B %L %P"));
}

Test(setup, hook_text_is_the_template_with_the_binary_line_replaced)
{
	struct buf run = BUF_INIT;

	for (int i = 0; i < SETUP_NR_HOOKS; i++) {
		const char *name = setup_hook_names[i];
		const char *tmpl = setup_hook_template(name);
		struct buf b = BUF_INIT;

		cr_assert_not_null(tmpl, "no template for %s", name);
		cr_assert_not_null(strstr(tmpl, "\ncrdtmem=git-merge-crdtmem\n"));
		cr_assert_eq(setup_hook_text(&b, name, "/my dir/it's/git-merge-crdtmem"),
			     0);
		cr_assert_not_null(strstr(
			b.buf, "\ncrdtmem='/my dir/it'\\''s/git-merge-crdtmem'\n"));
		cr_assert_null(strstr(b.buf, "\ncrdtmem=git-merge-crdtmem\n"));
		cr_assert(!strncmp(b.buf, "#!/bin/sh\n", 10));
		cr_assert(setup_hook_is_ours(b.buf, b.len));
		cr_assert(setup_hook_is_ours(tmpl, strlen(tmpl)));
		buf_reset(&run);
		buf_addf(&run, "\nexec \"$crdtmem\" hook %s \"$@\"\n", name);
		cr_assert_not_null(strstr(b.buf, run.buf), "%s does not end in %s", name,
				   run.buf);
		buf_release(&b);
	}
	buf_release(&run);
}

Test(setup, unknown_hook_names_have_no_text)
{
	struct buf b = BUF_INIT;

	cr_assert_null(setup_hook_template("pre-push"));
	cr_assert_eq(setup_hook_text(&b, "pre-push", "/x"), -1);
	cr_assert_eq(b.len, 0);
}

Test(setup, other_hooks_are_not_ours)
{
	const char *husky =
		"#!/bin/sh\n. \"$(dirname \"$0\")/_/husky.sh\"\nnpx lint-staged\n";
	const char *mention =
		"#!/bin/sh\n# runs git-merge-crdtmem\ngit-merge-crdtmem hook "
		"pre-commit\n";

	cr_assert_not(setup_hook_is_ours(husky, strlen(husky)));
	cr_assert_not(setup_hook_is_ours(mention, strlen(mention)));
	cr_assert_not(setup_hook_is_ours("", 0));
}

Test(setup, finds_programs_in_path_and_rejects_what_is_not_executable)
{
	char dir[] = "/tmp/crdtmem-unit-XXXXXX";
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	struct buf exe = BUF_INIT, plain = BUF_INIT, path = BUF_INIT;
	char *found;

	cr_assert_not_null(mkdtemp(dir));
	buf_addf(&exe, "%s/git-merge-crdtmem", dir);
	buf_addf(&plain, "%s/not-exec", dir);
	cr_assert_eq(write_file(exe.buf, 0755), 0);
	cr_assert_eq(write_file(plain.buf, 0644), 0);
	buf_addf(&path, "/nonexistent::%s", dir);
	setenv("PATH", path.buf, 1);

	found = setup_find_program("git-merge-crdtmem");
	cr_assert_not_null(found);
	cr_assert_str_eq(found, exe.buf);
	free(found);
	cr_assert_null(setup_find_program("not-exec"));
	cr_assert_null(setup_find_program(plain.buf));
	cr_assert_null(setup_find_program(dir)); /* a folder is not a program */
	cr_assert(setup_is_executable_file(exe.buf));
	cr_assert_not(setup_is_executable_file(plain.buf));

	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	unlink(exe.buf);
	unlink(plain.buf);
	rmdir(dir);
	buf_release(&exe);
	buf_release(&plain);
	buf_release(&path);
}
