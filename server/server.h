/* The cartad process: one libuv loop that owns the listener, the signal
 * handlers and every connection; store work runs on libuv's thread pool. */
#ifndef CARTAD_SERVER_H
#define CARTAD_SERVER_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "dispatch.h"
#include "keys.h"
#include "store.h"

struct conn;

typedef struct server {
	uv_loop_t loop;
	uv_tcp_t listener;
	uv_signal_t sigint, sigterm;
	server_config cfg;
	store *db;
	dispatch_env env;  /* what request handlers get */
	uint8_t *key_priv; /* sodium_malloc'd: guarded, locked, no core */
	uint8_t key_pub[KEY_LEN];
	struct conn *conns; /* doubly linked list of live connections */
	unsigned nconns;
	struct conn *handshakes; /* those not yet authenticated */
	unsigned nhandshakes;
	/* Requests run holding it shared, a revocation exclusive: once a
	 * revocation is answered, no request of the revoked principal is
	 * still running or can start. */
	pthread_rwlock_t revoke_lock;
	_Atomic uint64_t revocations; /* dispatch_env.revocations */
	uint64_t next_conn_id;
	bool stopping;
	char addr_path[PATH_MAX];
	char pid_path[PATH_MAX];
} server;

/* Serves the data directory dir until SIGINT or SIGTERM. listen, when not
 * NULL, overrides the config. Returns a process exit status: 0 after a
 * clean shutdown in which every handle closed, 2 when listen is not an
 * address cartad can listen on, 1 on any other failure; each failure
 * says why on stderr. */
int server_run(const char *dir, const char *listen);

/* Closes every connection of principal id at once (it was revoked). */
void server_close_principal(server *srv, int64_t principal_id);

#endif
