#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include "carta_error.h"
#include "conn.h"
#include "init.h"
#include "log.h"
#include "match.h"

static void on_connection(uv_stream_t *listener, int status)
{
	server *srv = listener->data;

	if (status < 0) {
		log_limited(LOG_CLASS_CONN, LOG_WARN, 0,
			    "event=accept_error error=%s", uv_strerror(status));
		return;
	}
	conn_accept(srv);
}

void server_close_principal(server *srv, int64_t principal_id)
{
	for (struct conn *c = srv->conns; c != NULL; c = conn_next(c)) {
		if (conn_principal_id(c) == principal_id)
			conn_revoke(c);
	}
}

static void begin_shutdown(server *srv, const char *why)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	log_event(LOG_INFO, 0, "event=shutdown signal=%s connections=%u", why,
		  srv->nconns);
	uv_close((uv_handle_t *)&srv->listener, NULL);
	uv_close((uv_handle_t *)&srv->sigint, NULL);
	uv_close((uv_handle_t *)&srv->sigterm, NULL);

	/* Take the next pointer first: draining may close c at once. */
	struct conn *c = srv->conns, *next;
	for (; c != NULL; c = next) {
		next = conn_next(c);
		conn_drain(c);
	}
}

static void on_signal(uv_signal_t *sig, int signum)
{
	begin_shutdown(sig->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static int write_text_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return CARTA_EIO;
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return CARTA_EIO;
	}
	return 0;
}

static int bind_listener(server *srv)
{
	char host[CONFIG_LISTEN_MAX], text[CONFIG_LISTEN_MAX + 16];
	struct sockaddr_storage ss;
	int port, rc;

	if (config_split_address(srv->cfg.listen, host, sizeof(host), &port)) {
		fprintf(stderr,
			"cartad: listen address '%s' is not HOST:PORT\n",
			srv->cfg.listen);
		return CARTA_EINVAL;
	}
	if (strchr(host, ':') != NULL)
		rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
	if (rc != 0) {
		fprintf(stderr,
			"cartad: listen address '%s' is not an IP "
			"address\n",
			srv->cfg.listen);
		return CARTA_EINVAL;
	}

	uv_tcp_init(&srv->loop, &srv->listener);
	srv->listener.data = srv;
	rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->listener, 128,
			       on_connection);
	if (rc != 0) {
		fprintf(stderr, "cartad: cannot listen on %s: %s\n",
			srv->cfg.listen, uv_strerror(rc));
		uv_close((uv_handle_t *)&srv->listener, NULL);
		return CARTA_EIO;
	}

	/* Report the bound address (the port may have been 0). */
	int len = sizeof(ss);
	uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6) {
		uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(text, sizeof(text), "[%s]:%d\n", host, port);
	} else {
		uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(text, sizeof(text), "%s:%d\n", host, port);
	}
	text[strcspn(text, "\n")] = '\0';
	log_event(LOG_INFO, 0, "event=listening addr=%s", text);
	strcat(text, "\n");
	return write_text_file(srv->addr_path, text);
}

static int load_key(server *srv, const char *dir)
{
	char path[PATH_MAX], err[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/%s", dir, DATA_SERVER_KEY);
	srv->key_priv = sodium_malloc(KEY_LEN);
	if (srv->key_priv == NULL)
		return CARTA_ENOMEM;
	int rv =
	    keyfile_read(path, srv->key_priv, srv->key_pub, err, sizeof(err));
	if (rv != 0)
		fprintf(stderr, "cartad: %s\n", err);
	return rv;
}

/* Holds an exclusive lock on DIR/cartad.lock for the process lifetime so
 * that two servers never share a data directory. */
static int lock_data_dir(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, DATA_LOCK);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return CARTA_EIO;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return CARTA_EEXIST;
	}
	return 0;
}

static void walk_unclosed(uv_handle_t *h, void *arg)
{
	(void)arg;
	log_event(LOG_ERROR, 0, "event=handle_left_open type=%s",
		  uv_handle_type_name(uv_handle_get_type(h)));
}

int server_run(const char *dir, const char *listen)
{
	static server srv; /* one per process; signals refer to it */
	char path[PATH_MAX], err[PATH_MAX + 256], pid[32];
	int status = 1, rv;
	bool lock_made = false;

	memset(&srv, 0, sizeof(srv));
	if (listen != NULL && config_check_listen(listen, err, sizeof(err))) {
		fprintf(stderr, "cartad: --listen %s\n", err);
		return 2;
	}
	/* A request waiting for the writer holds a pool thread: with libuv's
	 * default of 4, four writes would stall every read and batches could
	 * never grow. Set before the pool starts; the environment wins. */
	setenv("UV_THREADPOOL_SIZE", "32", 0);
	/* No core dumps: the process holds the server's secret key. */
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);

	config_defaults(&srv.cfg);
	snprintf(path, sizeof(path), "%s/%s", dir, DATA_CONFIG);
	rv = config_load(path, &srv.cfg, err, sizeof(err));
	if (rv != 0) {
		if (rv == CARTA_ENOENT)
			fprintf(stderr,
				"cartad: %s is not a data directory (no %s); "
				"create one with: cartad init --data %s\n",
				dir, DATA_CONFIG, dir);
		else
			fprintf(stderr, "cartad: %s\n", err);
		return 1;
	}
	if (listen != NULL)
		snprintf(srv.cfg.listen, sizeof(srv.cfg.listen), "%s", listen);
	log_set_level(srv.cfg.level);

	rv = lock_data_dir(dir);
	if (rv != 0) {
		fprintf(stderr, "cartad: %s is in use by another cartad\n",
			dir);
		return 1;
	}
	if (load_key(&srv, dir) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, DATA_DB);
	rv = store_open(path, 0, &srv.db);
	if (rv != 0) {
		fprintf(stderr, "cartad: cannot open %s: %s\n", path,
			carta_strerror(rv));
		goto out;
	}

	srv.env.db = srv.db;
	srv.env.region = srv.cfg.default_country;
	match_configure(
	    &(match_options){.plus_tags = srv.cfg.dedup_plus_tags,
			     .provider_dots = srv.cfg.dedup_provider_dots,
			     .min_score = srv.cfg.dedup_min_score});
	srv.env.server_pub = srv.key_pub;
	srv.env.revocations = &srv.revocations;
	/* Writers first: a steady stream of requests must not hold a
	 * revocation off. */
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
	    &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rv = pthread_rwlock_init(&srv.revoke_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (rv != 0) {
		fprintf(stderr, "cartad: cannot create a lock: %s\n",
			strerror(rv));
		goto out;
	}
	lock_made = true;
	snprintf(srv.addr_path, sizeof(srv.addr_path), "%s/%s", dir, DATA_ADDR);
	snprintf(srv.pid_path, sizeof(srv.pid_path), "%s/%s", dir, DATA_PID);
	uv_loop_init(&srv.loop);
	if (bind_listener(&srv) != 0) {
		uv_run(&srv.loop, UV_RUN_DEFAULT);
		uv_loop_close(&srv.loop);
		goto out;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	write_text_file(srv.pid_path, pid);

	uv_signal_init(&srv.loop, &srv.sigint);
	uv_signal_init(&srv.loop, &srv.sigterm);
	srv.sigint.data = srv.sigterm.data = &srv;
	uv_signal_start(&srv.sigint, on_signal, SIGINT);
	uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
	log_event(LOG_INFO, 0, "event=started version=%s schema_version=%d",
		  CARTA_VERSION, store_schema_version(srv.db));

	uv_run(&srv.loop, UV_RUN_DEFAULT);

	rv = uv_loop_close(&srv.loop);
	if (rv != 0) {
		uv_walk(&srv.loop, walk_unclosed, NULL);
		log_event(LOG_ERROR, 0, "event=stopped clean=false error=%s",
			  uv_strerror(rv));
	} else {
		log_event(LOG_INFO, 0, "event=stopped clean=true");
		status = 0;
	}
	unlink(srv.addr_path);
	unlink(srv.pid_path);

out:
	store_close(srv.db);
	if (lock_made)
		pthread_rwlock_destroy(&srv.revoke_lock);
	if (srv.key_priv != NULL)
		sodium_free(srv.key_priv);
	return status;
}
