#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "profile.h"

/* Servers started and not yet stopped: reaped at exit, so that a test
 * that fails half way (cmocka jumps out of it) never leaves a cartad
 * holding ctest's output pipe open until the time-out. */
#define HARNESS_MAX_SERVERS 16
static struct {
	pid_t pid;
	char dir[PATH_MAX];
} live[HARNESS_MAX_SERVERS];

static void reap_live_servers(void)
{
	/* Room for the data directory twice and the command around it. */
	char cmd[PATH_MAX * 2 + 64];

	for (int i = 0; i < HARNESS_MAX_SERVERS; i++) {
		if (live[i].pid <= 0)
			continue;
		kill(live[i].pid, SIGKILL);
		waitpid(live[i].pid, NULL, 0);
		fprintf(stderr, "harness: killed cartad %ld left running\n",
			(long)live[i].pid);
		/* dir is the data directory; its parent is the mkdtemp one. */
		snprintf(cmd, sizeof(cmd),
			 "cat '%s/cartad.log' >&2; rm -rf \"$(dirname '%s')\"",
			 live[i].dir, live[i].dir);
		harness_run(cmd, NULL, 0);
		live[i].pid = 0;
	}
}

static void live_add(const harness *h)
{
	static bool registered;

	if (!registered) {
		atexit(reap_live_servers);
		registered = true;
	}
	for (int i = 0; i < HARNESS_MAX_SERVERS; i++) {
		if (live[i].pid <= 0) {
			live[i].pid = h->pid;
			snprintf(live[i].dir, sizeof(live[i].dir), "%s",
				 h->dir);
			return;
		}
	}
	fprintf(stderr, "harness: more than %d servers at once\n",
		HARNESS_MAX_SERVERS);
}

static void live_remove(pid_t pid)
{
	for (int i = 0; i < HARNESS_MAX_SERVERS; i++)
		if (live[i].pid == pid)
			live[i].pid = 0;
}

uint64_t harness_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int harness_run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t have = 0;

	if (p == NULL)
		return -1;
	if (out != NULL && cap > 0) {
		size_t n;
		while (have + 1 < cap &&
		       (n = fread(out + have, 1, cap - 1 - have, p)) > 0)
			have += n;
		out[have] = '\0';
	}
	char sink[256];
	while (fread(sink, 1, sizeof(sink), p) > 0)
		;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int read_addr(harness *h)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/cartad.addr", h->dir);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	int ok = fgets(h->addr, sizeof(h->addr), f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	h->addr[strcspn(h->addr, "\n")] = '\0';
	char *colon = strrchr(h->addr, ':');
	if (colon == NULL)
		return -1;
	snprintf(h->host, sizeof(h->host), "%.*s", (int)(colon - h->addr),
		 h->addr);
	h->port = atoi(colon + 1);
	return h->port > 0 ? 0 : -1;
}

int harness_start(harness *h, const char *extra_config)
{
	char cmd[PATH_MAX * 2], err[256];
	const char *tmp = getenv("TMPDIR");

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "%s/carta-test-XXXXXX",
		 tmp ? tmp : "/tmp");
	if (mkdtemp(h->dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "'%s' init --data '%s/data' --listen 127.0.0.1:0 >/dev/null",
		 CARTAD_PATH, h->dir);
	if (harness_run(cmd, NULL, 0) != 0) {
		fprintf(stderr, "harness: cartad init failed\n");
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		harness_run(cmd, NULL, 0);
		h->dir[0] = '\0';
		return -1;
	}
	strcat(h->dir, "/data");
	if (snprintf(h->admin_profile, sizeof(h->admin_profile),
		     "%s/admin.profile",
		     h->dir) >= (int)sizeof(h->admin_profile))
		return -1;
	if (extra_config != NULL) {
		snprintf(cmd, sizeof(cmd), "%s/cartad.conf", h->dir);
		FILE *f = fopen(cmd, "a");
		if (f == NULL)
			return -1;
		fputs(extra_config, f);
		fclose(f);
	}

	profile p;
	if (profile_read(h->admin_profile, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "harness: %s\n", err);
		return -1;
	}
	memcpy(h->server_pub, p.server_key, 32);
	memcpy(h->admin_priv, p.secret_key, 32);
	profile_wipe(&p);

	pid_t parent = getpid();
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		char log[PATH_MAX + 16];
		/* Die with the test, even when it crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		snprintf(log, sizeof(log), "%s/cartad.log", h->dir);
		FILE *f = freopen(log, "w", stderr);
		/* Nothing of ctest's may stay open in the server. */
		FILE *g = freopen("/dev/null", "w", stdout);
		(void)f;
		(void)g;
		execl(CARTAD_PATH, "cartad", "--data", h->dir, (char *)NULL);
		_exit(127);
	}
	live_add(h);

	uint64_t deadline = harness_now_ms() + 10000;
	while (harness_now_ms() < deadline) {
		if (read_addr(h) == 0)
			return 0;
		int st;
		if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
			fprintf(stderr, "harness: cartad exited early\n");
			live_remove(h->pid);
			h->pid = 0;
			return -1;
		}
		usleep(10000);
	}
	fprintf(stderr, "harness: cartad did not start listening\n");
	return -1;
}

int harness_stop(harness *h)
{
	int st = 0, status = -1;
	char cmd[PATH_MAX + 32];

	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		if (waitpid(h->pid, &st, 0) == h->pid && WIFEXITED(st))
			status = WEXITSTATUS(st);
		live_remove(h->pid);
		h->pid = 0;
	}
	/* CARTA_TEST_LOG=1 shows the server's log even after a clean stop. */
	if (status != 0 || getenv("CARTA_TEST_LOG") != NULL) {
		snprintf(cmd, sizeof(cmd), "cat '%s/cartad.log' >&2", h->dir);
		harness_run(cmd, NULL, 0);
	}
	/* h->dir ends in /data: remove its parent, the mkdtemp directory,
	 * and nothing else (a start that failed early left no directory). */
	size_t len = strlen(h->dir);
	if (len > 5 && strcmp(h->dir + len - 5, "/data") == 0 &&
	    strstr(h->dir, "/carta-test-") != NULL) {
		h->dir[len - 5] = '\0';
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
		harness_run(cmd, NULL, 0);
	}
	h->dir[0] = '\0';
	return status;
}

char *harness_read_log(const harness *h)
{
	char path[PATH_MAX + 16];
	size_t cap = 1 << 16, len = 0, n;

	snprintf(path, sizeof(path), "%s/cartad.log", h->dir);
	FILE *f = fopen(path, "r");
	char *text = malloc(cap);
	if (f == NULL || text == NULL)
		goto fail;
	while ((n = fread(text + len, 1, cap - 1 - len, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *bigger = realloc(text, cap * 2);
			if (bigger == NULL)
				goto fail;
			text = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	text[len] = '\0';
	return text;

fail:
	if (f != NULL)
		fclose(f);
	free(text);
	return NULL;
}

int harness_connect_raw(const harness *h)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* Before connect, so that the window is scaled for them. */
	if (h->sock_buf > 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &h->sock_buf,
			   sizeof(h->sock_buf));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &h->sock_buf,
			   sizeof(h->sock_buf));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (h->source[0] != '\0') {
		if (inet_pton(AF_INET, h->source, &sa.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(fd);
			return -1;
		}
	}
	sa.sin_port = htons((uint16_t)h->port);
	inet_pton(AF_INET, h->host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	/* A send the server never drains fails the test instead of hanging
	 * it. */
	struct timeval tv = {.tv_sec = 30};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int harness_wait_closed(int fd, int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
	char buf[4096];

	for (;;) {
		uint64_t now = harness_now_ms();
		if (now >= deadline)
			return 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, (int)(deadline - now));
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
			return 1;
	}
}
