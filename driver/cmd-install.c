/*
 * git-merge-crdtmem install [--repo DIR | --global] [--uninstall] [--force] [-q]:
 * sets up a repository (or the user's git config) so that git merges the
 * memory files with this binary, after "git lfs install": the merge driver
 * in git config, the merge attribute on the memory files, and the hooks.
 *
 * Every key is set only when unset or already ours; a foreign hook is kept
 * as NAME.crdtmem-chained and keeps running. What install creates is
 * recorded in git config under crdtmem.install.*, so --uninstall puts back
 * exactly what was there before. Everything is checked before anything is
 * changed: a refusal changes nothing.
 */
#define _GNU_SOURCE /* realpath */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "cmds.h"
#include "diag.h"
#include "gitops.h"
#include "restored.h"
#include "setup.h"
#include "statelog.h"

#define DEFAULT_CRON "*/30 * * * *"

const char install_usage[] =
	"usage: git-merge-crdtmem install [--repo DIR | --global] [--uninstall] "
	"[--force] "
	"[-q]\n"
	"   or: git-merge-crdtmem install [--repo DIR] --schedule[=CRON] [--memory "
	"FILE]\n"
	"   or: git-merge-crdtmem install [--repo DIR] --unschedule\n";

static const char install_help[] =
	"\n"
	"Sets up git to merge memory files (memory-*.json, unified-memory.json)\n"
	"with this program, the way \"git lfs install\" does for git-lfs. Running it\n"
	"again changes nothing; --uninstall puts back what was there before.\n"
	"\n"
	"  --repo DIR    set up the repository at DIR (default: the one around the\n"
	"                current folder)\n"
	"  --global      set up your global git config instead (all repositories)\n"
	"  --uninstall   remove what install added and put back what it moved\n"
	"  --force       replace merge.crdtmem.* values that are not this program's\n"
	"  -q, --quiet   print nothing but errors\n"
	"\n"
	"In a repository (--repo, the default) it writes:\n"
	"  - git config --local: merge.crdtmem.name, merge.crdtmem.driver (this\n"
	"    program's absolute path, then %O %A %B %L %P) and\n"
	"    merge.crdtmem.recursive = crdtmem;\n"
	"  - the lines 'memory-*.json merge=crdtmem -text' and\n"
	"    'unified-memory.json merge=crdtmem -text' into the file\n"
	"    \"git rev-parse --git-path info/attributes\" names, unless git already\n"
	"    gives these files merge=crdtmem. That file is not part of the work\n"
	"    tree, so nothing shows in git status and \"git pull --rebase\" is never\n"
	"    blocked. The alternative is to commit the lines (see\n"
	"    gitattributes.example) to .gitattributes, for every clone at once;\n"
	"  - the hooks pre-commit, post-commit, post-merge and post-rewrite into\n"
	"    the folder \"git rev-parse --git-path hooks\" names, so core.hooksPath\n"
	"    and linked worktrees are honoured. A hook already there that is not\n"
	"    ours is renamed NAME.crdtmem-chained and runs first, every time; a\n"
	"    failing pre-commit there still stops the commit.\n"
	"\n"
	"With --global it writes the same keys with git config --global, and the\n"
	"attribute lines into core.attributesFile (default\n"
	"$XDG_CONFIG_HOME/git/attributes or ~/.config/git/attributes), so every\n"
	"repository merges memory files with this program. It installs no hooks:\n"
	"run \"git-merge-crdtmem install\" in each memory repository for those, or\n"
	"point core.hooksPath at a folder of hooks for all repositories.\n"
	"\n"
	"A key already set to a command that is not git-merge-crdtmem is not\n"
	"replaced without --force. What install added is recorded in the same\n"
	"config as crdtmem.install.*; --uninstall removes exactly that and renames\n"
	"chained hooks back. CRDTMEM_INSTALL_BIN, when set, is the program path\n"
	"recorded instead of this one's (for packages and tests).\n"
	"\n"
	"Periodic backups (cron):\n"
	"  --schedule[=CRON]  also add a line to your crontab that runs\n"
	"                     'git-merge-crdtmem backup' for this repository at CRON\n"
	"                     (five cron fields or @hourly, @daily...; default\n"
	"                     '" DEFAULT_CRON "', every 30 minutes); running it again\n"
	"                     replaces that line\n"
	"  --memory FILE      the live memory file it backs up (default:\n"
	"                     $MEMORY_FILE_PATH now)\n"
	"  --unschedule       remove that line again (and install nothing)\n"
	"The line is marked '# git-merge-crdtmem backup of DIR', every path in it\n"
	"is quoted, the rest of your crontab is kept, and the backups' messages go\n"
	"to cron.log in $XDG_STATE_HOME/git-merge-crdtmem (default\n"
	"~/.local/state/git-merge-crdtmem, made private). Needs the crontab\n"
	"program (Debian: apt-get install cron).\n"
	"\n"
	"Exit status: 0 installed (or nothing to do); 1 refused or failed, with\n"
	"the reason on stderr; 2 wrong usage.\n";

static const char attr_marker[] =
	"# git-merge-crdtmem: memory files merge as a CRDT (added by install)";

#define RECORD "crdtmem.install"

struct config_key {
	const char *key; /* under merge.crdtmem. */
	int is_driver;	 /* ours = runs git-merge-crdtmem; else ours = the value */
};
static const struct config_key config_keys[] = {
	{"name", 0},
	{"driver", 1},
	{"recursive", 0},
};
#define NR_KEYS (sizeof(config_keys) / sizeof(*config_keys))

struct install {
	int global, uninstall, force, quiet;
	int schedule, unschedule;
	const char *cron;   /* --schedule's CRON, or NULL */
	const char *memory; /* --memory, or NULL */
	const char *repo;   /* --repo as given, for messages */
	char *dir; /* where git runs: the top of the repository; NULL for global */
	const char *scope;  /* "--local" or "--global" */
	char *bin;	    /* the program path the driver and hooks run */
	int changes;	    /* lines said */
	struct buf records; /* RECORD's entries, "key\nvalue\0" each (git config -z) */
};

/* Say one line on stdout about a change (unless -q), and count it. */
static void say(struct install *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct install *in, const char *fmt, ...)
{
	va_list ap;

	in->changes++;
	if (in->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- git config ---- */

/* Run "git config SCOPE ARGS...". out (may be NULL) gets stdout. Returns git's status. */
static int config_v(struct install *in, struct buf *out, int quiet,
		    const char *const *args)
{
	struct child c = CHILD_INIT;
	int ret;

	child_git(&c, "config", in->scope, NULL);
	for (size_t i = 0; args[i]; i++)
		child_push(&c, args[i]);
	c.dir = in->dir;
	c.capture_out = 1;
	c.capture_err = quiet;
	ret = child_run(&c);
	if (out)
		buf_addbuf(out, &c.out);
	child_release(&c);
	return ret;
}

static int config_change(struct install *in, const char *op, const char *key,
			 const char *value)
{
	const char *args[] = {op, key, value, NULL};

	if (config_v(in, NULL, 0, args))
		return error("git config %s %s %s failed", in->scope, op, key);
	return 0;
}

/*
 * The values of key in our scope: 0 none, else their number; the last one
 * in value. -1 on failure.
 */
static int config_get(struct install *in, const char *key, struct buf *value)
{
	const char *args[] = {"--get-all", "-z", key, NULL};
	struct buf out = BUF_INIT;
	int ret = config_v(in, &out, 1, args), n = 0;

	buf_reset(value);
	if (ret == 1) {
		ret = 0;
		goto out;
	}
	if (ret) {
		ret = error("cannot read %s from git config", key);
		goto out;
	}
	for (size_t i = 0; i < out.len; i += strlen(out.buf + i) + 1) {
		buf_reset(value);
		buf_addstr(value, out.buf + i);
		n++;
	}
	ret = n;
out:
	buf_release(&out);
	return ret;
}

/* Whether our scope has a key matching regex. */
static int config_has(struct install *in, const char *regex)
{
	const char *args[] = {"--get-regexp", regex, NULL};

	return !config_v(in, NULL, 1, args);
}

/* Load RECORD's entries into in->records. */
static int load_records(struct install *in)
{
	const char *args[] = {"-z", "--get-regexp", "^crdtmem\\.install\\.", NULL};
	int ret;

	buf_reset(&in->records);
	ret = config_v(in, &in->records, 1, args);
	if (ret == 1) {
		buf_reset(&in->records);
		return 0;
	}
	return ret ? error("cannot read " RECORD ".* from git config") : 0;
}

/*
 * The n-th value recorded under RECORD.name (names are lowercase in git's
 * output), or NULL.
 */
static const char *record(const struct install *in, const char *name, int n)
{
	size_t plen = strlen(RECORD) + 1;

	for (size_t i = 0; i < in->records.len;) {
		const char *entry = in->records.buf + i, *nl = strchr(entry, '\n');
		size_t len = strlen(entry);

		if (nl && (size_t)(nl - entry) == plen + strlen(name) &&
		    !strncmp(entry, RECORD ".", plen) &&
		    !strncasecmp(entry + plen, name, strlen(name)) && !n--)
			return nl + 1;
		i += len + 1;
	}
	return NULL;
}

static int has_record(const struct install *in, const char *name, const char *value)
{
	const char *v;

	for (int n = 0; (v = record(in, name, n)); n++)
		if (!value || !strcmp(v, value))
			return 1;
	return 0;
}

static int add_record(struct install *in, const char *name, const char *value)
{
	struct buf key = BUF_INIT;
	int ret;

	if (has_record(in, name, value))
		return 0;
	buf_addf(&key, RECORD ".%s", name);
	ret = config_change(in, "--add", key.buf, value);
	buf_release(&key);
	return ret ? ret : load_records(in);
}

/* ---- files ---- */

static int exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* The parent folder of path. Caller frees. */
static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xmemdup0(path, (size_t)(slash - path));
}

/* Make folder dir and the missing ones above it, recording each made. */
static int make_dirs(struct install *in, const char *dir)
{
	char *copy = xstrdup(dir);
	int ret = 0;

	for (char *p = copy + 1;; p++) {
		int end = !*p;

		if (!end && *p != '/')
			continue;
		*p = '\0';
		if (!exists(copy)) {
			if (mkdir(copy, 0777)) {
				ret = error("cannot create %s: %s", qpath(copy),
					    strerror(errno));
				break;
			}
			if ((ret = add_record(in, "createdDir", copy)))
				break;
		}
		if (end)
			break;
		*p = '/';
	}
	free(copy);
	return ret;
}

/* The global config file git config --global writes. Caller frees. */
static char *global_config_file(void)
{
	const char *env = getenv("GIT_CONFIG_GLOBAL"), *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	struct buf b = BUF_INIT, x = BUF_INIT;

	if (env && *env)
		return xstrdup(env);
	buf_addf(&b, "%s/.gitconfig", home ? home : "");
	if (xdg && *xdg)
		buf_addf(&x, "%s/git/config", xdg);
	else
		buf_addf(&x, "%s/.config/git/config", home ? home : "");
	if (!exists(b.buf) && exists(x.buf)) {
		buf_release(&b);
		return buf_detach(&x, NULL);
	}
	buf_release(&x);
	return buf_detach(&b, NULL);
}

/* The attributes file install writes in our scope. Returns 0 or -1. */
static int attributes_file(struct install *in, struct buf *out)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	struct buf val = BUF_INIT;
	int n;

	buf_reset(out);
	if (!in->global)
		return setup_git_path(out, in->dir, "info/attributes");
	n = config_get(in, "core.attributesFile", &val);
	if (n < 0) {
		buf_release(&val);
		return -1;
	}
	if (n > 0 && val.len) {
		if (!strncmp(val.buf, "~/", 2))
			buf_addf(out, "%s/%s", home ? home : "", val.buf + 2);
		else
			buf_addbuf(out, &val);
	} else if (xdg && *xdg) {
		buf_addf(out, "%s/git/attributes", xdg);
	} else {
		buf_addf(out, "%s/.config/git/attributes", home ? home : "");
	}
	buf_release(&val);
	return 0;
}

/* Whether line l (of length len) gives pattern merge=crdtmem. */
static int line_sets(const char *l, size_t len, const char *pattern)
{
	size_t plen = strlen(pattern);
	int after_pattern = 0;

	while (len && (*l == ' ' || *l == '\t'))
		l++, len--;
	if (len <= plen || strncmp(l, pattern, plen) ||
	    (l[plen] != ' ' && l[plen] != '\t'))
		return 0;
	for (size_t i = plen; i + 13 <= len; i++) {
		after_pattern = l[i - 1] == ' ' || l[i - 1] == '\t';
		if (after_pattern && !strncmp(l + i, "merge=crdtmem", 13) &&
		    (i + 13 == len || l[i + 13] == ' ' || l[i + 13] == '\t' ||
		     l[i + 13] == '\r'))
			return 1;
	}
	return 0;
}

/* Whether the attributes text has a line giving pattern merge=crdtmem. */
static int text_sets(const struct buf *text, const char *pattern)
{
	for (size_t i = 0; i < text->len;) {
		const char *l = text->buf + i, *nl = memchr(l, '\n', text->len - i);
		size_t len = nl ? (size_t)(nl - l) : text->len - i;

		if (line_sets(l, len, pattern))
			return 1;
		i += len + 1;
	}
	return 0;
}

/* For each attribute line: whether git (repo) or the file (global) already has it. */
static int attributes_present(struct install *in, const struct buf *text,
			      int present[SETUP_NR_ATTRS])
{
	struct setup_state st;

	if (in->global) {
		present[0] = text_sets(text, "memory-*.json");
		present[1] = text_sets(text, "unified-memory.json");
		return 0;
	}
	if (setup_inspect(in->dir, &st))
		return -1;
	present[0] = st.attr_memory;
	present[1] = st.attr_unified;
	setup_state_release(&st);
	return 0;
}

/* ---- install ---- */

/* The absolute path of the program to record. Returns 0 or -1. */
static int find_binary(struct install *in)
{
	const char *env = getenv("CRDTMEM_INSTALL_BIN");
	const char *base;

	if (env && *env) {
		if (!setup_is_executable_file(env))
			return error("%s (CRDTMEM_INSTALL_BIN) is not an executable file",
				     qpath(env));
		if (strchr(env, '/')) {
			in->bin = setup_find_program(env);
		} else {
			struct buf b = BUF_INIT;
			buf_addf(&b, "./%s", env);
			in->bin = setup_find_program(b.buf);
			buf_release(&b);
		}
	} else {
		in->bin = realpath("/proc/self/exe", NULL);
		if (!in->bin && crdtmem_argv0) {
			char *found = setup_find_program(crdtmem_argv0);
			if (found) {
				in->bin = realpath(found, NULL);
				free(found);
			}
		}
		if (!in->bin)
			return error("cannot tell where this program is; set "
				     "CRDTMEM_INSTALL_BIN to its path");
		if (!setup_is_executable_file(in->bin))
			return error("%s is not an executable file", qpath(in->bin));
	}
	if (!in->bin)
		return error("%s (CRDTMEM_INSTALL_BIN) is not an executable file",
			     qpath(env));
	base = strrchr(in->bin, '/');
	base = base ? base + 1 : in->bin;
	if (strcmp(base, SETUP_PROGRAM))
		return error("%s is not named " SETUP_PROGRAM
			     ": the driver and the hooks must run a program of that name",
			     qpath(in->bin));
	return 0;
}

/* What to do with one config key. */
struct key_plan {
	struct buf key, want, old;
	int nr_old;
	int change; /* 0 nothing; 1 set */
};

static int plan_config(struct install *in, struct key_plan plan[NR_KEYS])
{
	struct buf any = BUF_INIT;
	int refused = 0;

	for (size_t i = 0; i < NR_KEYS; i++) {
		struct key_plan *p = &plan[i];
		int ours;

		buf_addf(&p->key, "merge.crdtmem.%s", config_keys[i].key);
		if (config_keys[i].is_driver)
			setup_driver_command(&p->want, in->bin);
		else if (!strcmp(config_keys[i].key, "name"))
			buf_addstr(&p->want, SETUP_DRIVER_NAME);
		else
			buf_addstr(&p->want, "crdtmem");
		p->nr_old = config_get(in, p->key.buf, &p->old);
		if (p->nr_old < 0) {
			buf_release(&any);
			return -1;
		}
		if (p->nr_old == 1 && !strcmp(p->old.buf, p->want.buf))
			continue;
		if (!p->nr_old) {
			/* Already given by another scope (say, --global): leave it. */
			if (!in->global &&
			    !git_output(&any, in->dir, "config", "--get", p->key.buf,
					NULL) &&
			    !strcmp(any.buf, p->want.buf))
				continue;
			p->change = 1;
			continue;
		}
		ours = p->nr_old == 1 && config_keys[i].is_driver &&
		       setup_driver_is_ours(p->old.buf);
		if (!ours && !in->force) {
			error("%s is already set to %s (%s); use --force to replace it",
			      p->key.buf, qpath(p->old.buf),
			      in->global ? "global config" : "repository config");
			refused = 1;
			continue;
		}
		p->change = 1;
	}
	buf_release(&any);
	return refused ? -1 : 0;
}

static int apply_config(struct install *in, struct key_plan plan[NR_KEYS])
{
	int created = 0, any = 0;
	struct buf name = BUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < NR_KEYS; i++)
		any |= plan[i].change;
	if (!any)
		return 0;
	if (in->global) {
		char *file = global_config_file();
		if (!exists(file))
			ret = add_record(in, "createdConfigFile", file);
		free(file);
		if (ret)
			return ret;
	}
	if (!config_has(in, "^merge\\.crdtmem\\.")) {
		created = 1;
		if ((ret = add_record(in, "createdSection", "true")))
			return ret;
	}
	for (size_t i = 0; i < NR_KEYS && !ret; i++) {
		const char *k = config_keys[i].key;

		if (!plan[i].change)
			continue;
		if (!created && !has_record(in, "createdSection", NULL) &&
		    !has_record(in, "added", k)) {
			buf_reset(&name);
			buf_addf(&name, "previous-%s", k);
			if (!plan[i].nr_old)
				ret = add_record(in, "added", k);
			else if (!has_record(in, name.buf, NULL))
				ret = add_record(in, name.buf, plan[i].old.buf);
			if (ret)
				break;
		}
		if ((ret = config_change(in, "--replace-all", plan[i].key.buf,
					 plan[i].want.buf)))
			break;
		say(in, "set %s", plan[i].key.buf);
	}
	buf_release(&name);
	return ret;
}

static int install_attributes(struct install *in)
{
	struct buf file = BUF_INIT, text = BUF_INIT, add = BUF_INIT;
	int present[SETUP_NR_ATTRS] = {0, 0};
	int ret = -1, existed;
	char *dir = NULL;

	if (attributes_file(in, &file))
		goto out;
	existed = exists(file.buf);
	if (existed && read_whole_file(file.buf, &text)) {
		error("cannot read %s: %s", qpath(file.buf), strerror(errno));
		goto out;
	}
	if (attributes_present(in, &text, present))
		goto out;
	if (present[0] && present[1]) {
		ret = 0;
		goto out;
	}
	if (text.len && text.buf[text.len - 1] != '\n') {
		buf_addch(&add, '\n');
		if (add_record(in, "addedNewline", file.buf))
			goto out;
	}
	buf_addf(&add, "%s\n", attr_marker);
	for (int i = 0; i < SETUP_NR_ATTRS; i++)
		if (!present[i])
			buf_addf(&add, "%s\n", setup_attr_lines[i]);
	dir = parent_dir(file.buf);
	if (make_dirs(in, dir))
		goto out;
	if (!existed && add_record(in, "createdAttributesFile", file.buf))
		goto out;
	if (add_record(in, "attributesFile", file.buf))
		goto out;
	buf_addbuf(&text, &add);
	if (atomic_write(file.buf, text.buf, text.len, ATOMIC_FSYNC))
		goto out;
	say(in, "added attribute lines to %s", qpath(file.buf));
	ret = 0;
out:
	free(dir);
	buf_release(&file);
	buf_release(&text);
	buf_release(&add);
	return ret;
}

enum hook_action { HOOK_KEEP, HOOK_NEW, HOOK_UPDATE, HOOK_CHAIN };

struct hook_plan {
	struct buf path, chained, text;
	enum hook_action action;
};

/* Whether path is a regular file holding one of our hooks. */
static int is_our_hook(const char *path, const struct buf *want, int *same)
{
	struct buf have = BUF_INIT;
	struct stat st;
	int ours = 0;

	*same = 0;
	if (!lstat(path, &st) && S_ISREG(st.st_mode) && !read_whole_file(path, &have)) {
		ours = setup_hook_is_ours(have.buf, have.len);
		*same = want && ours && have.len == want->len &&
			!memcmp(have.buf, want->buf, have.len) &&
			(st.st_mode & 07777) == 0755;
	}
	buf_release(&have);
	return ours;
}

static int plan_hooks(struct install *in, const char *hooks_dir,
		      struct hook_plan plan[SETUP_NR_HOOKS])
{
	int refused = 0;

	for (int i = 0; i < SETUP_NR_HOOKS; i++) {
		struct hook_plan *p = &plan[i];
		int same;

		buf_addf(&p->path, "%s/%s", hooks_dir, setup_hook_names[i]);
		buf_addf(&p->chained, "%s.crdtmem-chained", p->path.buf);
		setup_hook_text(&p->text, setup_hook_names[i], in->bin);
		if (!exists(p->path.buf))
			p->action = HOOK_NEW;
		else if (is_our_hook(p->path.buf, &p->text, &same))
			p->action = same ? HOOK_KEEP : HOOK_UPDATE;
		else if (exists(p->chained.buf)) {
			error("cannot install %s: %s exists already; move one of "
			      "them "
			      "away",
			      qpath(p->path.buf), qpath(p->chained.buf));
			refused = 1;
		} else
			p->action = HOOK_CHAIN;
	}
	return refused ? -1 : 0;
}

static int apply_hooks(struct install *in, const char *hooks_dir,
		       struct hook_plan plan[SETUP_NR_HOOKS])
{
	for (int i = 0; i < SETUP_NR_HOOKS; i++) {
		struct hook_plan *p = &plan[i];

		if (p->action == HOOK_KEEP)
			continue;
		if (make_dirs(in, hooks_dir))
			return -1;
		if (p->action == HOOK_CHAIN && rename(p->path.buf, p->chained.buf))
			return error("cannot rename %s to %s: %s", qpath(p->path.buf),
				     qpath(p->chained.buf), strerror(errno));
		if (atomic_write(p->path.buf, p->text.buf, p->text.len, ATOMIC_FSYNC) ||
		    (chmod(p->path.buf, 0755) &&
		     error("cannot make %s executable: %s", qpath(p->path.buf),
			   strerror(errno)))) {
			if (p->action == HOOK_CHAIN && !exists(p->path.buf))
				rename(p->chained.buf, p->path.buf);
			return -1;
		}
		if (p->action == HOOK_CHAIN)
			say(in, "installed hook %s (chained to the existing one)",
			    qpath(p->path.buf));
		else if (p->action == HOOK_UPDATE)
			say(in, "updated hook %s", qpath(p->path.buf));
		else
			say(in, "installed hook %s", qpath(p->path.buf));
	}
	return 0;
}

static int do_install(struct install *in)
{
	struct key_plan keys[NR_KEYS];
	struct hook_plan hooks[SETUP_NR_HOOKS];
	struct buf hooks_dir = BUF_INIT;
	int ret = -1;

	memset(keys, 0, sizeof(keys));
	memset(hooks, 0, sizeof(hooks));
	for (size_t i = 0; i < NR_KEYS; i++)
		keys[i].key = keys[i].want = keys[i].old = (struct buf)BUF_INIT;
	for (int i = 0; i < SETUP_NR_HOOKS; i++)
		hooks[i].path = hooks[i].chained = hooks[i].text = (struct buf)BUF_INIT;

	if (find_binary(in) || load_records(in))
		goto out;
	/* Check everything before changing anything. */
	if (plan_config(in, keys))
		goto out;
	if (!in->global && (setup_git_path(&hooks_dir, in->dir, "hooks") ||
			    plan_hooks(in, hooks_dir.buf, hooks)))
		goto out;

	if (apply_config(in, keys) || install_attributes(in))
		goto out;
	if (!in->global && apply_hooks(in, hooks_dir.buf, hooks))
		goto out;
	if (!in->changes && !in->quiet)
		printf("git-merge-crdtmem is already installed in %s%s%s; nothing "
		       "changed\n",
		       in->global ? "the global git config" : "'",
		       in->global ? "" : in->dir, in->global ? "" : "'");
	if (in->global && !in->quiet)
		fprintf(stderr, "hint: hooks are per repository: run 'git-merge-crdtmem "
				"install' in each memory repository\n");
	ret = 0;
out:
	for (size_t i = 0; i < NR_KEYS; i++) {
		buf_release(&keys[i].key);
		buf_release(&keys[i].want);
		buf_release(&keys[i].old);
	}
	for (int i = 0; i < SETUP_NR_HOOKS; i++) {
		buf_release(&hooks[i].path);
		buf_release(&hooks[i].chained);
		buf_release(&hooks[i].text);
	}
	buf_release(&hooks_dir);
	return ret;
}

/* ---- uninstall ---- */

static int uninstall_config(struct install *in)
{
	struct buf key = BUF_INIT;
	const char *v;
	int ret = 0;

	if (has_record(in, "createdSection", NULL)) {
		if (config_has(in, "^merge\\.crdtmem\\.")) {
			const char *args[] = {"--remove-section", "merge.crdtmem", NULL};
			if (config_v(in, NULL, 0, args))
				return error(
					"cannot remove merge.crdtmem from git config");
			say(in, "removed merge.crdtmem from git config");
		}
		return 0;
	}
	for (int n = 0; !ret && (v = record(in, "added", n)); n++) {
		const char *args[] = {"--unset-all", key.buf, NULL};
		buf_reset(&key);
		buf_addf(&key, "merge.crdtmem.%s", v);
		args[1] = key.buf;
		if (config_v(in, NULL, 1, args) > 1)
			ret = error("cannot unset %s", key.buf);
		else
			say(in, "unset %s", key.buf);
	}
	for (size_t i = 0; !ret && i < NR_KEYS; i++) {
		buf_reset(&key);
		buf_addf(&key, "previous-%s", config_keys[i].key);
		if (!(v = record(in, key.buf, 0)))
			continue;
		buf_reset(&key);
		buf_addf(&key, "merge.crdtmem.%s", config_keys[i].key);
		if (!(ret = config_change(in, "--replace-all", key.buf, v)))
			say(in, "put back %s", key.buf);
	}
	buf_release(&key);
	return ret;
}

static int uninstall_attributes(struct install *in)
{
	struct buf file = BUF_INIT, text = BUF_INIT;
	const char *recorded = record(in, "attributesFile", 0);
	size_t start, end;
	char *found;
	int ret = -1;

	if (recorded)
		buf_addstr(&file, recorded);
	else if (attributes_file(in, &file))
		goto out;
	if (!exists(file.buf) || read_whole_file(file.buf, &text)) {
		ret = 0;
		goto out;
	}
	/* Our block: the marker line, then our attribute lines. */
	for (found = text.buf; (found = strstr(found, attr_marker)); found++)
		if ((found == text.buf || found[-1] == '\n') &&
		    found[strlen(attr_marker)] == '\n')
			break;
	if (!found) {
		ret = 0;
		goto out;
	}
	start = (size_t)(found - text.buf);
	end = start + strlen(attr_marker) + 1;
	for (int i = 0; i < SETUP_NR_ATTRS; i++) {
		size_t len = strlen(setup_attr_lines[i]);

		if (end + len > text.len ||
		    strncmp(text.buf + end, setup_attr_lines[i], len))
			continue;
		if (end + len == text.len)
			end += len;
		else if (text.buf[end + len] == '\n')
			end += len + 1;
	}
	if (start && end == text.len && has_record(in, "addedNewline", file.buf) &&
	    text.buf[start - 1] == '\n')
		start--;
	memmove(text.buf + start, text.buf + end, text.len - end);
	buf_setlen(&text, text.len - (end - start));
	if (!text.len && has_record(in, "createdAttributesFile", file.buf)) {
		if (unlink(file.buf)) {
			error("cannot remove %s: %s", qpath(file.buf), strerror(errno));
			goto out;
		}
		say(in, "removed %s", qpath(file.buf));
	} else {
		if (atomic_write(file.buf, text.buf, text.len, ATOMIC_FSYNC))
			goto out;
		say(in, "removed attribute lines from %s", qpath(file.buf));
	}
	ret = 0;
out:
	buf_release(&file);
	buf_release(&text);
	return ret;
}

static int uninstall_hooks(struct install *in)
{
	struct buf dir = BUF_INIT, path = BUF_INIT, chained = BUF_INIT;
	int ret = -1;

	if (setup_git_path(&dir, in->dir, "hooks"))
		goto out;
	for (int i = 0; i < SETUP_NR_HOOKS; i++) {
		int same, ours;

		buf_reset(&path);
		buf_reset(&chained);
		buf_addf(&path, "%s/%s", dir.buf, setup_hook_names[i]);
		buf_addf(&chained, "%s.crdtmem-chained", path.buf);
		ours = is_our_hook(path.buf, NULL, &same);
		if (ours && unlink(path.buf)) {
			error("cannot remove %s: %s", qpath(path.buf), strerror(errno));
			goto out;
		}
		if (!exists(chained.buf)) {
			if (ours)
				say(in, "removed hook %s", qpath(path.buf));
			continue;
		}
		if (exists(path.buf)) {
			warning("%s is not ours: left it, and %s, in place",
				qpath(path.buf), qpath(chained.buf));
			continue;
		}
		if (rename(chained.buf, path.buf)) {
			error("cannot rename %s to %s: %s", qpath(chained.buf),
			      qpath(path.buf), strerror(errno));
			goto out;
		}
		say(in, "removed hook %s and put back the one it chained to",
		    qpath(path.buf));
	}
	ret = 0;
out:
	buf_release(&dir);
	buf_release(&path);
	buf_release(&chained);
	return ret;
}

static int do_uninstall(struct install *in)
{
	const char *v;
	size_t n = 0;
	char *file = NULL;
	struct stat st;

	if (load_records(in))
		return -1;
	if (!in->global && uninstall_hooks(in))
		return -1;
	if (uninstall_attributes(in) || uninstall_config(in))
		return -1;
	/* The folders install made, deepest first. */
	while (record(in, "createdDir", (int)n))
		n++;
	while (n--) {
		v = record(in, "createdDir", (int)n);
		if (!rmdir(v))
			say(in, "removed folder %s", qpath(v));
	}
	if (in->records.len) {
		const char *args[] = {"--remove-section", RECORD, NULL};
		const char *created = record(in, "createdConfigFile", 0);

		file = created ? xstrdup(created) : NULL;
		if (config_v(in, NULL, 0, args)) {
			free(file);
			return error("cannot remove " RECORD " from git config");
		}
		if (file && !stat(file, &st) && !st.st_size)
			unlink(file);
		free(file);
	}
	if (!in->changes && !in->quiet)
		printf("git-merge-crdtmem is not installed in %s%s%s; nothing changed\n",
		       in->global ? "the global git config" : "'",
		       in->global ? "" : in->dir, in->global ? "" : "'");
	return 0;
}

/* ---- schedule ---- */

#define CRON_MARK	   "# git-merge-crdtmem backup of "
#define CRONTAB_TIMEOUT_MS 30000

/* Whether s is a cron time: five fields of digits, names, * / , -, or @word. */
static int valid_cron(const char *s)
{
	static const char *const words[] = {"@hourly",	 "@daily",   "@midnight",
					    "@weekly",	 "@monthly", "@yearly",
					    "@annually", "@reboot"};
	int fields = 0, in_field = 0;

	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (!strcmp(s, words[i]))
			return 1;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t') {
			in_field = 0;
			continue;
		}
		if (!strchr("0123456789*/,-", *s) &&
		    !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return 0;
		if (!in_field)
			fields++;
		in_field = 1;
	}
	return fields == 5;
}

/* Append s quoted for the shell, with cron's % escaped (cron makes it a newline). */
static void cron_sq(struct buf *out, const char *s)
{
	struct buf q = BUF_INIT;

	setup_sq(&q, s);
	for (size_t i = 0; i < q.len; i++) {
		if (q.buf[i] == '%')
			buf_addch(out, '\\');
		buf_addch(out, q.buf[i]);
	}
	buf_release(&q);
}

/* Run crontab with args; stdin from in (may be NULL). */
static int run_crontab(struct child *c, const char *arg, const char *in, size_t len)
{
	child_pushl(c, "crontab", arg, NULL);
	c->in = in;
	c->in_len = len;
	c->capture_out = c->capture_err = 1;
	c->timeout_ms = CRONTAB_TIMEOUT_MS;
	return child_run(c);
}

/* The current crontab into out ("" when there is none). Returns 0 or -1. */
static int crontab_read(struct buf *out)
{
	struct child c = CHILD_INIT;
	int status = run_crontab(&c, "-l", NULL, 0);
	int ret = 0;

	buf_reset(out);
	if (status == 0) {
		buf_addbuf(out, &c.out);
	} else if (status == 1 && strstr(c.err.buf, "no crontab")) {
		/* none yet */
	} else if (status < 0 && !c.timed_out) {
		ret = error(
			"cannot schedule backups: the crontab program is not installed "
			"(Debian: apt-get install cron), or run 'git-merge-crdtmem "
			"backup' from another scheduler");
	} else {
		ret = error("crontab -l failed: %s",
			    c.err.len ? c.err.buf : "no message");
	}
	child_release(&c);
	return ret;
}

static int crontab_write(const struct buf *table)
{
	struct child c = CHILD_INIT;
	int ret = 0;

	if (run_crontab(&c, "-", table->buf, table->len))
		ret = error("crontab - failed: %s", c.err.len ? c.err.buf : "no message");
	child_release(&c);
	return ret;
}

/*
 * out = table without the lines marked for dir (the last one of them, with
 * its newline, into old when not NULL). Returns their number.
 */
static int drop_marked(const struct buf *table, const char *mark, struct buf *out,
		       struct buf *old)
{
	int dropped = 0;

	for (size_t i = 0; i < table->len;) {
		const char *l = table->buf + i, *nl = memchr(l, '\n', table->len - i);
		size_t len = nl ? (size_t)(nl - l) : table->len - i;
		size_t mlen = strlen(mark);

		if (len >= mlen && !memcmp(l + len - mlen, mark, mlen)) {
			dropped++;
			if (old) {
				buf_reset(old);
				buf_add(old, l, len);
				buf_addch(old, '\n');
			}
		} else {
			buf_add(out, l, len);
			buf_addch(out, '\n');
		}
		i += len + 1;
	}
	return dropped;
}

static int do_schedule(struct install *in)
{
	struct buf table = BUF_INIT, next = BUF_INIT, line = BUF_INIT, mark = BUF_INIT;
	struct buf state = BUF_INIT, logpath = BUF_INIT, old = BUF_INIT;
	const char *memory = in->memory ? in->memory : getenv("MEMORY_FILE_PATH");
	const char *path = getenv("PATH");
	char *memory_abs = NULL;
	int ret = -1, dropped;

	if (strpbrk(in->dir, "\n\r")) {
		error("'%s': a folder whose name holds a line break cannot be scheduled",
		      in->dir);
		goto out;
	}
	buf_addf(&mark, CRON_MARK "%s", in->dir);
	if (in->unschedule) {
		if (crontab_read(&table))
			goto out;
		dropped = drop_marked(&table, mark.buf, &next, NULL);
		if (!dropped) {
			if (!in->quiet)
				printf("no backup of '%s' is scheduled; nothing "
				       "changed\n",
				       in->dir);
			ret = 0;
			goto out;
		}
		if (crontab_write(&next))
			goto out;
		say(in, "removed the scheduled backup of '%s' from your crontab",
		    in->dir);
		ret = 0;
		goto out;
	}
	if (!memory || !*memory) {
		error("which memory file should the scheduled backup read? pass --memory "
		      "FILE (or set MEMORY_FILE_PATH)");
		goto out;
	}
	memory_abs = restored_abs_path(memory);
	if (strpbrk(memory_abs, "\n\r") || (path && strpbrk(path, "\n\r"))) {
		error("'%s': a path holding a line break cannot be scheduled",
		      memory_abs);
		goto out;
	}
	if (access(memory_abs, R_OK))
		warning("'%s' cannot be read now (%s); the scheduled backups will fail "
			"until it can",
			memory_abs, strerror(errno));
	if (!setup_is_executable_file(in->bin)) {
		error("'%s' is not an executable file", in->bin);
		goto out;
	}
	if (state_dir(&state))
		goto out;
	buf_addf(&logpath, "%s/cron.log", state.buf);
	if (crontab_read(&table))
		goto out;

	buf_addf(&line, "%s ", in->cron ? in->cron : DEFAULT_CRON);
	if (path && *path) {
		buf_addstr(&line, "PATH=");
		cron_sq(&line, path);
		buf_addch(&line, ' ');
	}
	cron_sq(&line, in->bin);
	buf_addstr(&line, " backup -q --repo ");
	cron_sq(&line, in->dir);
	buf_addstr(&line, " --memory ");
	cron_sq(&line, memory_abs);
	buf_addstr(&line, " >>");
	cron_sq(&line, logpath.buf);
	buf_addf(&line, " 2>&1 %s\n", mark.buf);

	dropped = drop_marked(&table, mark.buf, &next, &old);
	buf_addbuf(&next, &line);
	if (dropped == 1 && !strcmp(old.buf, line.buf)) {
		if (!in->quiet)
			printf("the backup of '%s' is already scheduled; nothing "
			       "changed\n",
			       in->dir);
		ret = 0;
		goto out;
	}
	if (crontab_write(&next))
		goto out;
	say(in, "scheduled a backup of '%s' (%s) in your crontab; messages go to '%s'",
	    in->dir, in->cron ? in->cron : DEFAULT_CRON, logpath.buf);
	ret = 0;
out:
	free(memory_abs);
	buf_release(&table);
	buf_release(&next);
	buf_release(&line);
	buf_release(&mark);
	buf_release(&state);
	buf_release(&logpath);
	buf_release(&old);
	return ret;
}

/* The top of the repository around dir (its git dir when bare). Returns 0 or -1. */
static int find_repository(struct install *in)
{
	struct buf out = BUF_INIT;
	const char *where = in->repo ? in->repo : ".";

	if (in->repo && access(in->repo, F_OK)) {
		buf_release(&out);
		return error("%s: %s", qpath(in->repo), strerror(errno));
	}
	if (!git_output(&out, where, "rev-parse", "--show-toplevel", NULL) && out.len) {
		in->dir = buf_detach(&out, NULL);
		return 0;
	}
	if (!git_output(&out, where, "rev-parse", "--absolute-git-dir", NULL) &&
	    out.len) {
		in->dir = buf_detach(&out, NULL);
		return 0;
	}
	buf_release(&out);
	if (in->repo)
		return error("%s is not a git repository", qpath(in->repo));
	return error("not in a git repository: run it inside one, or give --repo DIR or "
		     "--global");
}

int cmd_install(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"repo", required_argument, NULL, 'r'},
		{"global", no_argument, NULL, 'g'},
		{"uninstall", no_argument, NULL, 'u'},
		{"force", no_argument, NULL, 'f'},
		{"quiet", no_argument, NULL, 'q'},
		{"schedule", optional_argument, NULL, 's'},
		{"unschedule", no_argument, NULL, 'S'},
		{"memory", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct install in = {0};
	int c, ret = EXIT_CONFLICT;

	in.records = (struct buf)BUF_INIT;
	in.uninstall = !strcmp(argv[0], "uninstall");
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': in.repo = optarg; break;
		case 'g': in.global = 1; break;
		case 'u': in.uninstall = 1; break;
		case 'f': in.force = 1; break;
		case 'q': in.quiet = 1; break;
		case 's':
			in.schedule = 1;
			in.cron = optarg;
			break;
		case 'S': in.unschedule = 1; break;
		case 'm': in.memory = optarg; break;
		case 'h': return show_help(install_usage, install_help);
		default: return bad_option(install_usage, argv, c);
		}
	}
	if (optind < argc)
		return usage_error(install_usage, "unexpected argument %s",
				   qpath(argv[optind]));
	if (in.global && in.repo)
		return usage_error(install_usage, "%s",
				   "--repo and --global cannot be used together");
	if ((in.schedule || in.unschedule) && (in.global || in.uninstall))
		return usage_error(
			install_usage, "%s",
			"--schedule and --unschedule are for one repository: not "
			"with --global or --uninstall");
	if (in.schedule && in.unschedule)
		return usage_error(install_usage, "%s",
				   "--schedule and --unschedule cannot be used together");
	if (in.memory && !in.schedule)
		return usage_error(install_usage, "%s", "--memory goes with --schedule");
	if (in.cron && !valid_cron(in.cron))
		return usage_error(
			install_usage,
			"'%s' is not a cron time: five fields (minute hour day "
			"month weekday) or @hourly, @daily...",
			in.cron);
	if (in.global) {
		in.scope = "--global";
	} else {
		in.scope = "--local";
		if (find_repository(&in))
			goto out;
	}
	if (in.unschedule) {
		if (do_schedule(&in))
			goto out;
	} else if (in.uninstall ? do_uninstall(&in) : do_install(&in)) {
		goto out;
	} else if (in.schedule && do_schedule(&in)) {
		goto out;
	}
	ret = EXIT_OK;
out:
	free(in.dir);
	free(in.bin);
	buf_release(&in.records);
	return ret;
}
