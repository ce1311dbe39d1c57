/* Test support: a real cartad in a temporary data directory on an
 * ephemeral loopback port, started and stopped by the test. */
#ifndef CARTA_TEST_HARNESS_H
#define CARTA_TEST_HARNESS_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
	char dir[PATH_MAX]; /* the data directory */
	char admin_profile[PATH_MAX];
	char addr[64]; /* 127.0.0.1:PORT */
	char host[48];
	int port;
	pid_t pid;
	uint8_t server_pub[32];
	uint8_t admin_priv[32];
	/* For harness_connect_raw, set by the test after harness_start: the
	 * local address to connect from ("127.0.0.2"; empty: any), and a
	 * SO_RCVBUF and SO_SNDBUF for the socket (0: the kernel's). */
	char source[48];
	int sock_buf;
} harness;

/* Makes a temporary directory, runs `cartad init` there, appends
 * extra_config (may be NULL) to its cartad.conf, starts `cartad` and waits
 * until it listens. Returns 0 or -1 (with a message on stderr). A server
 * the test never stops (an assertion failed first) is killed, its log
 * shown and its directory removed when the test program exits, and it
 * dies with the test program should that crash. */
int harness_start(harness *h, const char *extra_config);

/* SIGTERM, wait; returns cartad's exit status (0 after a clean stop), and
 * removes the directory. */
int harness_stop(harness *h);

/* The server's log so far, NUL-terminated (the caller frees it), or NULL
 * when it cannot be read. */
char *harness_read_log(const harness *h);

/* A TCP connection to the server (blocking), from h->source with
 * h->sock_buf when set. Returns the fd or -1. */
int harness_connect_raw(const harness *h);

/* Waits up to timeout_ms for the peer to close fd. Returns 1 when closed
 * (EOF or reset), 0 on time-out; bytes received meanwhile are discarded. */
int harness_wait_closed(int fd, int timeout_ms);

/* Runs a shell command, captures up to cap-1 bytes of its stdout into out
 * and returns its exit status (or -1). */
int harness_run(const char *cmd, char *out, size_t cap);

/* Milliseconds on the monotonic clock. */
uint64_t harness_now_ms(void);

#endif
