/*
 * The setup of a repository for git-merge-crdtmem: what install writes and
 * verify checks (see setup.h).
 */
#define _GNU_SOURCE /* realpath */
#include "setup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "diag.h"
#include "gitops.h"

const char *const setup_hook_names[SETUP_NR_HOOKS] = {"pre-commit", "post-commit",
						      "post-merge", "post-rewrite"};

const char *const setup_attr_paths[SETUP_NR_ATTRS] = {"memory-x.json",
						      "unified-memory.json"};
const char *const setup_attr_lines[SETUP_NR_ATTRS] = {
	"memory-*.json       merge=crdtmem -text",
	"unified-memory.json merge=crdtmem -text",
};

static const struct {
	const char *name;
	const char *text;
} hook_templates[] = {
#include "hooks.h"
};
#define NR_TEMPLATES (sizeof(hook_templates) / sizeof(*hook_templates))

/* The line of a template that install points at the binary. */
static const char program_line[] = "\ncrdtmem=" SETUP_PROGRAM "\n";
/* The second line of every hook of ours. */
static const char hook_marker[] = "\n# " SETUP_PROGRAM ": the ";

void setup_sq(struct buf *out, const char *s)
{
	buf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addstr(out, "'\\''");
		else
			buf_addch(out, *s);
	}
	buf_addch(out, '\'');
}

void setup_driver_command(struct buf *out, const char *bin)
{
	setup_sq(out, bin);
	buf_addstr(out, " %O %A %B %L %P");
}

char *setup_command_program(const char *cmd)
{
	struct buf word = BUF_INIT;
	const char *p = cmd;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
		if (*p == '\'') {
			const char *end = strchr(p + 1, '\'');
			if (!end)
				goto fail;
			buf_add(&word, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (!*p || *p == '$' || *p == '`')
					goto fail;
				if (*p == '\\' && strchr("\"\\$`", p[1]))
					p++;
				buf_addch(&word, *p);
			}
			p++;
		} else if (*p == '\\') {
			if (!p[1])
				goto fail;
			buf_addch(&word, p[1]);
			p += 2;
		} else if (strchr("$`;&|<>(){}*?[~=#", *p)) {
			goto fail;
		} else {
			buf_addch(&word, *p++);
		}
	}
	if (!word.len)
		goto fail;
	return buf_detach(&word, NULL);
fail:
	buf_release(&word);
	return NULL;
}

int setup_driver_is_ours(const char *cmd)
{
	char *prog = setup_command_program(cmd);
	const char *base;
	int ours;

	if (!prog)
		return 0;
	base = strrchr(prog, '/');
	base = base ? base + 1 : prog;
	ours = !strcmp(base, SETUP_PROGRAM);
	free(prog);
	return ours;
}

int setup_is_executable_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* path made absolute against the current folder (not resolved). Caller frees. */
static char *absolute(const char *path)
{
	struct buf b = BUF_INIT;
	char *cwd;

	if (path[0] == '/')
		return xstrdup(path);
	cwd = getcwd(NULL, 0);
	if (cwd)
		buf_addf(&b, "%s/", cwd);
	buf_addstr(&b, path);
	free(cwd);
	return buf_detach(&b, NULL);
}

char *setup_find_program(const char *prog)
{
	const char *path = getenv("PATH"), *p;
	struct buf cand = BUF_INIT;

	if (!*prog)
		return NULL;
	if (strchr(prog, '/'))
		return setup_is_executable_file(prog) ? absolute(prog) : NULL;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		buf_reset(&cand);
		if (len)
			buf_add(&cand, p, len);
		else
			buf_addch(&cand, '.');
		buf_addf(&cand, "/%s", prog);
		if (setup_is_executable_file(cand.buf)) {
			char *found = absolute(cand.buf);
			buf_release(&cand);
			return found;
		}
		if (!end)
			break;
		p = end;
	}
	buf_release(&cand);
	return NULL;
}

const char *setup_hook_template(const char *name)
{
	for (size_t i = 0; i < NR_TEMPLATES; i++)
		if (!strcmp(hook_templates[i].name, name))
			return hook_templates[i].text;
	return NULL;
}

int setup_hook_text(struct buf *out, const char *name, const char *bin)
{
	const char *text = setup_hook_template(name), *line;

	if (!text)
		return -1;
	line = strstr(text, program_line);
	if (!line)
		BUG("hooks/%s has no line 'crdtmem=%s'", name, SETUP_PROGRAM);
	buf_add(out, text, (size_t)(line - text));
	buf_addstr(out, "\ncrdtmem=");
	setup_sq(out, bin);
	buf_addstr(out, line + strlen(program_line) - 1);
	return 0;
}

static int mem_contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(hay + i, needle, n))
			return 1;
	return 0;
}

int setup_hook_is_ours(const char *text, size_t len)
{
	return len > 2 && !memcmp(text, "#!", 2) &&
	       mem_contains(text, len, hook_marker) &&
	       mem_contains(text, len, "\ncrdtmem=") &&
	       mem_contains(text, len, "\"$crdtmem\" hook ");
}

int setup_git_path(struct buf *out, const char *dir, const char *what)
{
	struct child c = CHILD_INIT;
	char *base = NULL;
	int ret = -1;

	child_git(&c, "rev-parse", "--git-path", what, NULL);
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	if (child_run(&c) != 0 || !c.out.len) {
		ret = error("%s is not in a git repository", qpath(dir ? dir : "."));
		goto out;
	}
	while (c.out.len && c.out.buf[c.out.len - 1] == '\n')
		buf_setlen(&c.out, c.out.len - 1);
	if (c.out.buf[0] != '/') {
		base = realpath(dir ? dir : ".", NULL);
		if (!base) {
			ret = error("cannot resolve %s: %s", qpath(dir ? dir : "."),
				    strerror(errno));
			goto out;
		}
		buf_addf(out, "%s/", base);
	}
	buf_addbuf(out, &c.out);
	ret = 0;
out:
	free(base);
	child_release(&c);
	return ret;
}

/* Whether "git check-attr" output says crdtmem for path. */
static int attr_says_crdtmem(const struct buf *out, const char *path)
{
	struct buf want = BUF_INIT;
	int found = 0;

	buf_addf(&want, "%s: merge: crdtmem\n", path);
	for (const char *p = out->buf; !found && *p;) {
		const char *eol = strchr(p, '\n');
		found = !strncmp(p, want.buf, want.len);
		if (!eol)
			break;
		p = eol + 1;
	}
	buf_release(&want);
	return found;
}

int setup_inspect(const char *dir, struct setup_state *st)
{
	struct buf val = BUF_INIT, hook = BUF_INIT;
	struct child c = CHILD_INIT;
	int ret = -1;

	*st = (struct setup_state)SETUP_STATE_INIT;
	if (setup_git_path(&hook, dir, "hooks"))
		goto out;
	st->hooks_dir = buf_detach(&hook, NULL);

	if (!git_output(&val, dir, "config", "--get", "merge.crdtmem.driver", NULL)) {
		st->driver = xstrdup(val.buf);
		if (setup_driver_is_ours(st->driver)) {
			char *prog = setup_command_program(st->driver);
			st->driver_program = setup_find_program(prog);
			st->driver_ok = st->driver_program != NULL;
			free(prog);
		}
	}
	st->recursive_ok = !git_output(&val, dir, "config", "--get",
				       "merge.crdtmem.recursive", NULL) &&
			   !strcmp(val.buf, "crdtmem");

	child_git(&c, "check-attr", "merge", "--", setup_attr_paths[0],
		  setup_attr_paths[1], NULL);
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	if (!child_run(&c)) {
		st->attr_memory = attr_says_crdtmem(&c.out, setup_attr_paths[0]);
		st->attr_unified = attr_says_crdtmem(&c.out, setup_attr_paths[1]);
	}

	for (int i = 0; i < SETUP_NR_HOOKS; i++) {
		buf_reset(&hook);
		buf_addf(&hook, "%s/%s", st->hooks_dir, setup_hook_names[i]);
		buf_reset(&val);
		st->hooks_ok[i] = setup_is_executable_file(hook.buf) &&
				  !read_whole_file(hook.buf, &val) &&
				  setup_hook_is_ours(val.buf, val.len);
	}
	ret = 0;
out:
	child_release(&c);
	buf_release(&val);
	buf_release(&hook);
	return ret;
}

void setup_state_release(struct setup_state *st)
{
	free(st->driver);
	free(st->hooks_dir);
	free(st->driver_program);
	*st = (struct setup_state)SETUP_STATE_INIT;
}
