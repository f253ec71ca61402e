/*
 * Running programs with a timeout, never through a shell (see gitops.h).
 */
/* pipe2, F_SETPIPE_SZ, posix_spawn_file_actions_addchdir_np */
#define _GNU_SOURCE
#include "gitops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"

extern char **environ;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void child_push(struct child *c, const char *arg)
{
	if (c->nr + 2 > c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 8;
		c->args = xrealloc(c->args, c->alloc * sizeof(*c->args));
	}
	c->args[c->nr++] = xstrdup(arg);
	c->args[c->nr] = NULL;
}

static void push_list(struct child *c, va_list ap)
{
	const char *arg;

	while ((arg = va_arg(ap, const char *)))
		child_push(c, arg);
}

void child_pushl(struct child *c, ...)
{
	va_list ap;

	va_start(ap, c);
	push_list(c, ap);
	va_end(ap);
}

void child_git(struct child *c, ...)
{
	va_list ap;

	child_push(c, "git");
	va_start(ap, c);
	push_list(c, ap);
	va_end(ap);
}

void child_release(struct child *c)
{
	for (size_t i = 0; i < c->nr; i++)
		free(c->args[i]);
	free(c->args);
	c->args = NULL;
	c->nr = c->alloc = 0;
	buf_release(&c->out);
	buf_release(&c->err);
	c->status = -1;
	c->timed_out = 0;
}

int git_timeout_ms(void)
{
	const char *s = getenv("CRDTMEM_GIT_TIMEOUT");
	char *end;
	long v;

	if (!s || !*s)
		return GIT_TIMEOUT_MS;
	v = strtol(s, &end, 10);
	if (*end || v <= 0 || v > 86400)
		return GIT_TIMEOUT_MS;
	return (int)(v * 1000);
}

/* The environment the child gets: ours with c->env applied. Caller frees the array. */
static char **child_environ(const struct child *c)
{
	size_t n = 0, extra = 0, k = 0;
	char **v;

	while (environ[n])
		n++;
	while (c->env && c->env[extra])
		extra++;
	v = xcalloc(n + extra + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		int drop = 0;
		for (size_t j = 0; j < extra && !drop; j++) {
			const char *e = c->env[j];
			size_t len = strcspn(e, "=");
			drop = !strncmp(environ[i], e, len) && environ[i][len] == '=';
		}
		if (!drop)
			v[k++] = environ[i];
	}
	for (size_t j = 0; j < extra; j++)
		if (strchr(c->env[j], '='))
			v[k++] = (char *)c->env[j];
	v[k] = NULL;
	return v;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* One running child: its process and the parent's ends of its pipes. */
struct running {
	struct child *c;
	pid_t pid;
	int in, out, err; /* -1 when closed */
	size_t in_done;
	long long start, deadline;
	int timeout_ms;
	int status, wait_errno;
	unsigned reaped : 1;
	unsigned waited : 1; /* a child_finish has waited for it */
};

/* A capture pipe of 1 MiB takes a large blob in a few reads, not hundreds. */
static void widen_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
	fcntl(fd, F_SETPIPE_SZ, 1 << 20); /* a smaller pipe is fine too */
#else
	(void)fd;
#endif
}

/*
 * Start r->c with posix_spawn: unlike fork, it does not copy this
 * process's page tables, which costs milliseconds once the memory files are
 * loaded. The child leads a process group of its own, so that a timeout
 * stops it and whatever it started. Returns 0, or -1 reported.
 */
static int spawn(struct running *r)
{
	struct child *c = r->c;
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	char **envp;
	int e;

	r->in = r->out = r->err = -1;
	if ((c->in && pipe2(in, O_CLOEXEC)) ||
	    (c->capture_out && pipe2(out, O_CLOEXEC)) ||
	    (c->capture_err && pipe2(err, O_CLOEXEC))) {
		e = errno;
		for (int i = 0; i < 2; i++) {
			close_fd(&in[i]);
			close_fd(&out[i]);
			close_fd(&err[i]);
		}
		return error("cannot run %s: %s", c->args[0], strerror(e));
	}
	posix_spawn_file_actions_init(&fa);
	if (c->in)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (c->capture_out)
		posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (c->capture_err)
		posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	if (c->dir)
		posix_spawn_file_actions_addchdir_np(&fa, c->dir);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setpgroup(&attr, 0);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE); /* ignored here while children run */
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
	envp = child_environ(c);
	fflush(NULL);
	e = posix_spawnp(&r->pid, c->args[0], &fa, &attr, c->args, envp);
	free(envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	if (e) {
		close_fd(&in[1]);
		close_fd(&out[0]);
		close_fd(&err[0]);
		if (e == ENOENT && c->dir && access(c->dir, F_OK))
			return error("cannot change to '%s': %s", c->dir, strerror(e));
		if (e == ENOENT)
			return error("cannot run %s: is it installed and on PATH?",
				     c->args[0]);
		return error("cannot run %s: %s", c->args[0], strerror(e));
	}
	r->in = in[1];
	r->out = out[0];
	r->err = err[0];
	if (r->out >= 0)
		widen_pipe(r->out);
	if (r->in >= 0) {
		fcntl(r->in, F_SETFL, fcntl(r->in, F_GETFL) | O_NONBLOCK);
		if (!c->in_len)
			close_fd(&r->in);
	}
	r->start = now_ms();
	r->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : git_timeout_ms();
	r->deadline = r->start + r->timeout_ms;
	return 0;
}

/* Move what is ready between r's pipes and its buffers. */
static void pump(struct running *r, int fd, short revents)
{
	struct child *c = r->c;

	if (!revents)
		return;
	if (fd == r->in) {
		ssize_t w = write(r->in, c->in + r->in_done, c->in_len - r->in_done);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (w > 0)
			r->in_done += (size_t)w;
		if (w < 0 || r->in_done == c->in_len)
			close_fd(&r->in);
		return;
	}
	int *pfd = fd == r->out ? &r->out : &r->err;
	struct buf *b = fd == r->out ? &c->out : &c->err;
	int sink = fd == r->out && c->out_sink;
	buf_grow(b, 1 << 20);
	ssize_t got = read(*pfd, b->buf + b->len, b->alloc - b->len - 1);
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		close_fd(pfd);
		return;
	}
	buf_setlen(b, b->len + (size_t)got);
	if (sink) {
		c->out_sink(c->sink_data, b->buf, b->len);
		buf_reset(b);
	}
}

static void stop(struct running *r)
{
	r->c->timed_out = 1;
	close_fd(&r->in);
	close_fd(&r->out);
	close_fd(&r->err);
	kill(-r->pid, SIGKILL);
	kill(r->pid, SIGKILL);
}

/* Reap r when it has exited (or wait for it when block). Returns 1 when reaped. */
static int reap(struct running *r, int block)
{
	for (;;) {
		pid_t w = waitpid(r->pid, &r->status, block ? 0 : WNOHANG);
		if (w == r->pid) {
			r->reaped = 1;
			return 1;
		}
		if (w == 0)
			return 0;
		if (errno != EINTR) {
			r->wait_errno = errno;
			r->status = -1;
			r->reaped = 1;
			return 1;
		}
	}
}

/* c's status from the reaped r, with the errors child_run reports. */
static int finish(struct running *r)
{
	struct child *c = r->c;
	int status = r->status;

	if (getenv("CRDTMEM_TRACE")) {
		fprintf(stderr, "trace: %lld ms:", now_ms() - r->start);
		for (size_t i = 0; i < c->nr && i < 6; i++)
			fprintf(stderr, " %s", c->args[i]);
		fputc('\n', stderr);
	}
	if (c->timed_out)
		return error("%s %s: no answer within %lld s; stopped it", c->args[0],
			     c->nr > 1 ? c->args[1] : "",
			     (long long)r->timeout_ms / 1000);
	if (status == -1)
		return error("cannot wait for %s: %s", c->args[0],
			     strerror(r->wait_errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return error("cannot run %s: is it installed and on PATH?", c->args[0]);
	if (!WIFEXITED(status))
		return error("%s %s: killed by signal %d", c->args[0],
			     c->nr > 1 ? c->args[1] : "", WTERMSIG(status));
	c->status = WEXITSTATUS(status);
	return c->status;
}

int child_start(struct child *c)
{
	struct running *r;

	if (!c->nr)
		BUG("child_start without a command");
	if (c->run)
		BUG("child_start on a running command");
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	c->run = r;
	c->status = -1;
	c->timed_out = 0;
	if (spawn(r)) {
		r->reaped = 1;
		r->status = -2;
		return -1;
	}
	return 0;
}

int child_finish_all(struct child **cs, size_t n)
{
	struct pollfd *pfd = xcalloc(3 * n + 1, sizeof(*pfd));
	struct running **owner = xcalloc(3 * n + 1, sizeof(*owner));
	struct sigaction ign, old_pipe;
	int ret = 0;

	/* A child that exits without reading its input must not kill us. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	/*
	 * A command started early and not yet waited for had no one reading
	 * its output: its full time counts from now, if that is later.
	 */
	for (size_t i = 0; i < n; i++) {
		struct running *r = cs[i]->run;
		if (r && !r->waited && !r->reaped) {
			long long from_now = now_ms() + r->timeout_ms;
			if (r->deadline < from_now)
				r->deadline = from_now;
		}
		if (r)
			r->waited = 1;
	}
	for (;;) {
		long long now = now_ms(), left = -1;
		nfds_t m = 0;

		for (size_t i = 0; i < n; i++) {
			struct running *r = cs[i]->run;
			if (!r)
				BUG("child_finish on a command not started");
			if (r->reaped)
				continue;
			if (now >= r->deadline) {
				stop(r);
				reap(r, 1);
				continue;
			}
			int fds[3] = {r->in, r->out, r->err};
			short ev[3] = {POLLOUT, POLLIN, POLLIN};
			int open_fds = 0;
			for (int k = 0; k < 3; k++)
				if (fds[k] >= 0) {
					pfd[m] = (struct pollfd){fds[k], ev[k], 0};
					owner[m++] = r;
					open_fds++;
				}
			/* Pipes closed: wait for the exit, looking every 2 ms. */
			if (!open_fds && reap(r, 0))
				continue;
			long long l = r->deadline - now;
			if (!open_fds && l > 2)
				l = 2;
			if (left < 0 || l < left)
				left = l;
		}
		if (left < 0)
			break;
		int got = poll(pfd, m, (int)left);
		if (got < 0 && errno != EINTR)
			break;
		for (nfds_t k = 0; got > 0 && k < m; k++)
			pump(owner[k], pfd[k].fd, pfd[k].revents);
	}
	for (size_t i = 0; i < n; i++) {
		struct running *r = cs[i]->run;
		if (!r->reaped) { /* poll failed: give up on it */
			stop(r);
			reap(r, 1);
		}
		close_fd(&r->in);
		close_fd(&r->out);
		close_fd(&r->err);
		if (r->status == -2 || finish(r) < 0)
			ret = -1;
		cs[i]->run = NULL;
		free(r);
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
	free(pfd);
	free(owner);
	return ret;
}

int child_finish(struct child *c)
{
	if (child_finish_all(&c, 1))
		return -1;
	return c->status;
}

int child_run_all(struct child **cs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		child_start(cs[i]); /* a failure is reported when finishing */
	return child_finish_all(cs, n);
}

int child_run(struct child *c)
{
	child_start(c);
	return child_finish(c);
}

int git_run(const char *const *argv, struct buf *out, int timeout_ms)
{
	struct child c = CHILD_INIT;
	int ret;

	child_push(&c, "git");
	for (size_t i = 0; argv[i]; i++)
		child_push(&c, argv[i]);
	c.timeout_ms = timeout_ms;
	c.capture_out = out != NULL;
	ret = child_run(&c);
	if (out)
		buf_addbuf(out, &c.out);
	child_release(&c);
	return ret;
}

static void trim_newlines(struct buf *b)
{
	while (b->len && (b->buf[b->len - 1] == '\n' || b->buf[b->len - 1] == '\r'))
		buf_setlen(b, b->len - 1);
}

int git_output(struct buf *out, const char *dir, ...)
{
	struct child c = CHILD_INIT;
	va_list ap;
	int ret;

	child_push(&c, "git");
	va_start(ap, dir);
	push_list(&c, ap);
	va_end(ap);
	c.dir = dir;
	c.capture_out = c.capture_err = 1;
	ret = child_run(&c);
	buf_reset(out);
	buf_addbuf(out, &c.out);
	trim_newlines(out);
	child_release(&c);
	return ret;
}

int git_dir(struct buf *out)
{
	const char *argv[] = {"rev-parse", "--absolute-git-dir", NULL};
	size_t start = out->len;

	if (git_run(argv, out, GIT_TIMEOUT_MS))
		return -1;
	trim_newlines(out);
	return out->len > start ? 0 : -1;
}
