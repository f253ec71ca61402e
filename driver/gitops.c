/*
 * Running git with a timeout, never through a shell (see gitops.h).
 */
#include "gitops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int git_run(const char *const *argv, struct buf *out, int timeout_ms)
{
	int pipefd[2];
	size_t argc = 0;
	pid_t pid;
	int status, timed_out = 0;

	while (argv[argc])
		argc++;
	if (pipe(pipefd))
		return error("cannot run git: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return error("cannot run git: %s", strerror(errno));
	}
	if (!pid) {
		const char **args = xcalloc(argc + 2, sizeof(*args));
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0); /* so a timeout can stop git and its children */
		if (devnull >= 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		args[0] = "git";
		for (size_t i = 0; i < argc; i++)
			args[i + 1] = argv[i];
		execvp("git", (char *const *)args);
		_exit(127);
	}
	close(pipefd[1]);
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd pfd = {pipefd[0], POLLIN, 0};
		char chunk[8192];

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			timed_out = r == 0;
			break;
		}
		ssize_t n = read(pipefd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out)
			buf_add(out, chunk, (size_t)n);
	}
	close(pipefd[0]);
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error("cannot wait for git: %s", strerror(errno));
	if (timed_out)
		return error("git %s: no answer within %d s; stopped it", argv[0],
			     timeout_ms / 1000);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return error("cannot run git: is it installed and on PATH?");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int git_dir(struct buf *out)
{
	const char *argv[] = {"rev-parse", "--absolute-git-dir", NULL};
	size_t start = out->len;

	if (git_run(argv, out, GIT_TIMEOUT_MS))
		return -1;
	while (out->len > start &&
	       (out->buf[out->len - 1] == '\n' || out->buf[out->len - 1] == '\r'))
		buf_setlen(out, out->len - 1);
	return out->len > start ? 0 : -1;
}
