/*
 * Running programs with a timeout, never through a shell (see gitops.h).
 */
#include "gitops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

int child_run(struct child *c)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int timeout = c->timeout_ms > 0 ? c->timeout_ms : git_timeout_ms();
	struct sigaction ign, old_pipe;
	char **envp = NULL;
	size_t in_done = 0;
	int status;
	pid_t pid;

	if (!c->nr)
		BUG("child_run without a command");
	c->status = -1;
	c->timed_out = 0;
	if ((c->in && pipe(in)) || (c->capture_out && pipe(out)) ||
	    (c->capture_err && pipe(err))) {
		error("cannot run %s: %s", c->args[0], strerror(errno));
		close_pair(in);
		close_pair(out);
		close_pair(err);
		return -1;
	}
	envp = child_environ(c);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error("cannot run %s: %s", c->args[0], strerror(errno));
		close_pair(in);
		close_pair(out);
		close_pair(err);
		free(envp);
		return -1;
	}
	if (!pid) {
		int devnull = open("/dev/null", O_RDWR);

		setpgid(0, 0); /* so a timeout can stop it and its children */
		dup2(c->in ? in[0] : devnull, 0);
		dup2(c->capture_out ? out[1] : devnull, 1);
		if (c->capture_err)
			dup2(err[1], 2);
		close_pair(in);
		close_pair(out);
		close_pair(err);
		if (devnull > 2)
			close(devnull);
		if (c->dir && chdir(c->dir)) {
			dprintf(2, "error: cannot change to '%s': %s\n", c->dir,
				strerror(errno));
			_exit(126);
		}
		environ = envp;
		execvp(c->args[0], c->args);
		_exit(127);
	}
	free(envp);
	if (in[0] >= 0) {
		close(in[0]);
		in[0] = -1;
		fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
	}
	if (out[1] >= 0) {
		close(out[1]);
		out[1] = -1;
	}
	if (err[1] >= 0) {
		close(err[1]);
		err[1] = -1;
	}
	/* A child that exits without reading its input must not kill us. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	if (in[1] >= 0 && !c->in_len) {
		close(in[1]);
		in[1] = -1;
	}

	long long deadline = now_ms() + timeout;
	while (in[1] >= 0 || out[0] >= 0 || err[0] >= 0) {
		struct pollfd pfd[3];
		int n = 0, r;
		long long left = deadline - now_ms();

		if (left <= 0) {
			c->timed_out = 1;
			break;
		}
		if (in[1] >= 0)
			pfd[n++] = (struct pollfd){in[1], POLLOUT, 0};
		if (out[0] >= 0)
			pfd[n++] = (struct pollfd){out[0], POLLIN, 0};
		if (err[0] >= 0)
			pfd[n++] = (struct pollfd){err[0], POLLIN, 0};
		r = poll(pfd, (nfds_t)n, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == in[1]) {
				ssize_t w = write(in[1], c->in + in_done,
						  c->in_len - in_done);
				if (w < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				if (w > 0)
					in_done += (size_t)w;
				if (w < 0 || in_done == c->in_len) {
					close(in[1]);
					in[1] = -1;
				}
			} else {
				int *fd = pfd[i].fd == out[0] ? &out[0] : &err[0];
				struct buf *b = fd == &out[0] ? &c->out : &c->err;
				buf_grow(b, 65536);
				ssize_t got =
					read(*fd, b->buf + b->len, b->alloc - b->len - 1);
				if (got < 0 && errno == EINTR)
					continue;
				if (got <= 0) {
					close(*fd);
					*fd = -1;
				} else {
					buf_setlen(b, b->len + (size_t)got);
				}
			}
		}
	}
	close_pair(in);
	close_pair(out);
	close_pair(err);
	if (c->timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	} else {
		/* The pipes are closed; wait for the exit, still within the time. */
		for (;;) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				goto reaped;
			if (w < 0 && errno != EINTR)
				break;
			if (now_ms() >= deadline) {
				c->timed_out = 1;
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				break;
			}
			struct timespec pause = {0, 2 * 1000 * 1000};
			nanosleep(&pause, NULL);
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			sigaction(SIGPIPE, &old_pipe, NULL);
			return error("cannot wait for %s: %s", c->args[0],
				     strerror(errno));
		}
reaped:
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (getenv("CRDTMEM_TRACE")) {
		fprintf(stderr, "trace: %lld ms:", now_ms() - (deadline - timeout));
		for (size_t i = 0; i < c->nr && i < 6; i++)
			fprintf(stderr, " %s", c->args[i]);
		fputc('\n', stderr);
	}
	if (c->timed_out)
		return error("%s %s: no answer within %d s; stopped it", c->args[0],
			     c->nr > 1 ? c->args[1] : "", timeout / 1000);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return error("cannot run %s: is it installed and on PATH?", c->args[0]);
	if (!WIFEXITED(status))
		return error("%s %s: killed by signal %d", c->args[0],
			     c->nr > 1 ? c->args[1] : "", WTERMSIG(status));
	c->status = WEXITSTATUS(status);
	return c->status;
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
