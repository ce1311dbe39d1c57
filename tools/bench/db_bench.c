/* db_bench: the store engine (server/db.c) against plain SQLite on this
 * machine, side by side.
 *
 *   db_bench [-t threads] [-n inserts per thread] [-r reads per thread]
 *            [-b body bytes] [-d directory]
 *
 * Writes: threads x inserts through db_write (group commit), then the same
 * inserts with plain SQLite, one autocommit transaction each (WAL,
 * synchronous=FULL, default autocheckpoint), from as many threads with a
 * connection each and from one thread. Reads: point lookups through
 * db_read with 4 readers, then with plain SQLite, a connection per thread.
 * Prints rows/s, commits (one fsync each), batch sizes and latencies; it
 * asserts nothing about time. The databases live in a temporary directory
 * (under -d, default $TMPDIR or /tmp) removed at the end. */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "carta_error.h"
#include "db.h"
#include "log.h"

#define READERS	 4
#define BODY_MAX 65536

static const db_migration migs[] = {
    {1, "CREATE TABLE rows (id INTEGER PRIMARY KEY, thread INTEGER NOT NULL,"
	" n INTEGER NOT NULL, body BLOB NOT NULL)"},
};

static const char insert_sql[] =
    "INSERT INTO rows (thread, n, body) VALUES (?, ?, ?)";
static const char select_sql[] = "SELECT length(body) FROM rows WHERE id = ?";

static uint8_t body[BODY_MAX];

typedef struct {
	int threads;
	int inserts;
	int reads;
	size_t body_len;
	char dir[PATH_MAX];
} options;

typedef struct {
	const options *o;
	int thread;
	db *d;		  /* the engine, or NULL for plain SQLite */
	const char *path; /* for plain SQLite */
	uint64_t *lat_us; /* one per operation */
	int ops;
	int errors;
	int64_t nrows; /* reads: ids are 1..nrows */
	uint64_t seed;
} worker;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- jobs for the engine ---- */

typedef struct {
	int thread;
	int n;
	size_t body_len;
} insert_arg;

static int insert_job(sqlite3 *conn, void *arg)
{
	const insert_arg *a = arg;
	sqlite3_stmt *st = NULL;

	int rv = db_prepare(conn, insert_sql, &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int(st, 1, a->thread);
	sqlite3_bind_int(st, 2, a->n);
	sqlite3_bind_blob(st, 3, body, (int)a->body_len, SQLITE_STATIC);
	return db_error(sqlite3_step(st));
}

typedef struct {
	int64_t id;
	int64_t len;
} select_arg;

static int select_job(sqlite3 *conn, void *arg)
{
	select_arg *a = arg;
	sqlite3_stmt *st = NULL;

	int rv = db_prepare(conn, select_sql, &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, 1, a->id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? CARTA_ENOENT : db_error(rc);
	a->len = sqlite3_column_int64(st, 0);
	return 0;
}

/* ---- plain SQLite ---- */

static sqlite3 *plain_open(const char *path)
{
	sqlite3 *conn = NULL;

	if (sqlite3_open_v2(path, &conn,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		fprintf(stderr, "db_bench: cannot open %s: %s\n", path,
			sqlite3_errmsg(conn));
		sqlite3_close(conn);
		return NULL;
	}
	sqlite3_busy_timeout(conn, 10000);
	if (sqlite3_exec(
		conn, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
		NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "db_bench: %s\n", sqlite3_errmsg(conn));
		sqlite3_close(conn);
		return NULL;
	}
	return conn;
}

/* ---- workers ---- */

static void *engine_writer(void *p)
{
	worker *w = p;

	for (int n = 0; n < w->ops; n++) {
		insert_arg a = {w->thread, n, w->o->body_len};
		uint64_t t0 = now_us();
		if (db_write(w->d, insert_job, &a) != 0)
			w->errors++;
		w->lat_us[n] = now_us() - t0;
	}
	return NULL;
}

static void *plain_writer(void *p)
{
	worker *w = p;
	sqlite3_stmt *st = NULL;
	sqlite3 *conn = plain_open(w->path);

	if (conn == NULL ||
	    sqlite3_prepare_v2(conn, insert_sql, -1, &st, NULL) != SQLITE_OK) {
		w->errors = w->ops;
		sqlite3_close(conn);
		return NULL;
	}
	for (int n = 0; n < w->ops; n++) {
		uint64_t t0 = now_us();
		sqlite3_bind_int(st, 1, w->thread);
		sqlite3_bind_int(st, 2, n);
		sqlite3_bind_blob(st, 3, body, (int)w->o->body_len,
				  SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			w->errors++;
		w->lat_us[n] = now_us() - t0;
	}
	sqlite3_finalize(st);
	sqlite3_close(conn);
	return NULL;
}

static void *engine_reader(void *p)
{
	worker *w = p;

	for (int n = 0; n < w->ops; n++) {
		select_arg a = {
		    1 + (int64_t)(next_rand(&w->seed) % (uint64_t)w->nrows), 0};
		uint64_t t0 = now_us();
		if (db_read(w->d, select_job, &a) != 0 ||
		    a.len != (int64_t)w->o->body_len)
			w->errors++;
		w->lat_us[n] = now_us() - t0;
	}
	return NULL;
}

/* A read transaction per lookup, as db_read does. */
static void *plain_reader(void *p)
{
	worker *w = p;
	sqlite3_stmt *st = NULL;
	sqlite3 *conn = plain_open(w->path);

	if (conn == NULL ||
	    sqlite3_prepare_v2(conn, select_sql, -1, &st, NULL) != SQLITE_OK) {
		w->errors = w->ops;
		sqlite3_close(conn);
		return NULL;
	}
	for (int n = 0; n < w->ops; n++) {
		int64_t id =
		    1 + (int64_t)(next_rand(&w->seed) % (uint64_t)w->nrows);
		uint64_t t0 = now_us();
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_ROW ||
		    sqlite3_column_int64(st, 0) != (int64_t)w->o->body_len)
			w->errors++;
		sqlite3_reset(st);
		w->lat_us[n] = now_us() - t0;
	}
	sqlite3_finalize(st);
	sqlite3_close(conn);
	return NULL;
}

/* ---- running and reporting ---- */

typedef struct {
	uint64_t ops;
	uint64_t errors;
	uint64_t elapsed_us;
	uint64_t p50, p99, max; /* latency, microseconds */
} result;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Runs fn on nthreads workers of ops operations each. Returns 0 or -1. */
static int run(const options *o, int nthreads, int ops, void *(*fn)(void *),
	       db *d, const char *path, int64_t nrows, result *out)
{
	worker *w = calloc((size_t)nthreads, sizeof(*w));
	pthread_t *t = calloc((size_t)nthreads, sizeof(*t));
	uint64_t *lat = calloc((size_t)nthreads * (size_t)ops, sizeof(*lat));
	int started = 0, rv = 0;

	if (w == NULL || t == NULL || lat == NULL) {
		rv = -1;
		goto out;
	}
	uint64_t t0 = now_us();
	for (; started < nthreads; started++) {
		worker *x = &w[started];
		*x = (worker){o,
			      started,
			      d,
			      path,
			      lat + (size_t)started * (size_t)ops,
			      ops,
			      0,
			      nrows,
			      0x9e3779b97f4a7c15ULL * (uint64_t)(started + 1)};
		if (pthread_create(&t[started], NULL, fn, x) != 0) {
			rv = -1;
			break;
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	if (rv != 0)
		goto out;

	memset(out, 0, sizeof(*out));
	out->elapsed_us = now_us() - t0;
	out->ops = (uint64_t)nthreads * (uint64_t)ops;
	for (int i = 0; i < nthreads; i++)
		out->errors += (uint64_t)w[i].errors;
	qsort(lat, out->ops, sizeof(*lat), cmp_u64);
	out->p50 = lat[out->ops / 2];
	out->p99 = lat[out->ops * 99 / 100];
	out->max = lat[out->ops - 1];
out:
	free(lat);
	free(t);
	free(w);
	return rv;
}

static double per_sec(const result *r)
{
	return r->elapsed_us > 0 ? (double)r->ops * 1e6 / (double)r->elapsed_us
				 : 0;
}

static void print_result(const char *name, const result *r)
{
	printf("  %-34s %9.0f /s  p50 %6llu us  p99 %6llu us  max %6llu us"
	       "%s\n",
	       name, per_sec(r), (unsigned long long)r->p50,
	       (unsigned long long)r->p99, (unsigned long long)r->max,
	       r->errors > 0 ? "  ERRORS" : "");
	if (r->errors > 0)
		printf("  %-34s %llu of %llu operations failed\n", "",
		       (unsigned long long)r->errors,
		       (unsigned long long)r->ops);
}

static void remove_db(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char p[PATH_MAX + 8];

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: db_bench [-t threads] [-n inserts per thread] "
			"[-r reads per thread] [-b body bytes] [-d dir]\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
	const char *tmp = getenv("TMPDIR");
	long v = 0;
	int c;

	*o = (options){8, 1000, 20000, 512, ""};
	snprintf(o->dir, sizeof(o->dir), "%s",
		 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	while ((c = getopt(argc, argv, "t:n:r:b:d:h")) != -1) {
		switch (c) {
		case 't':
			if (parse_int(optarg, 1, 256, &v) != 0)
				return -1;
			o->threads = (int)v;
			break;
		case 'n':
			if (parse_int(optarg, 1, 10000000, &v) != 0)
				return -1;
			o->inserts = (int)v;
			break;
		case 'r':
			if (parse_int(optarg, 1, 100000000, &v) != 0)
				return -1;
			o->reads = (int)v;
			break;
		case 'b':
			if (parse_int(optarg, 0, BODY_MAX, &v) != 0)
				return -1;
			o->body_len = (size_t)v;
			break;
		case 'd':
			snprintf(o->dir, sizeof(o->dir), "%s", optarg);
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

typedef struct {
	result engine_write, engine_read;
	db_stats_t stats;
	result plain_write, plain_write1, plain_read;
	int plain_write1_rows;
} report;

/* The engine: writes, then reads on the rows written. */
static int bench_engine(const options *o, const char *path, report *r)
{
	db *d = NULL;
	int64_t nrows = (int64_t)o->threads * o->inserts;

	int rv = db_open(path, 1, migs, 1, READERS, &d);
	if (rv != 0) {
		fprintf(stderr, "db_bench: db_open: %s\n", carta_strerror(rv));
		return -1;
	}
	rv = run(o, o->threads, o->inserts, engine_writer, d, NULL, 0,
		 &r->engine_write);
	db_stats(d, &r->stats);
	if (rv == 0)
		rv = run(o, o->threads, o->reads, engine_reader, d, NULL, nrows,
			 &r->engine_read);
	db_close(d);
	return rv;
}

/* Plain SQLite: the same writes from as many threads, then from one, then
 * the same reads. */
static int bench_plain(const options *o, const char *path, report *r)
{
	int64_t nrows = (int64_t)o->threads * o->inserts;
	int rv = -1;

	sqlite3 *conn = plain_open(path);
	if (conn == NULL)
		return -1;
	if (sqlite3_exec(conn, migs[0].sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "db_bench: %s\n", sqlite3_errmsg(conn));
		goto out;
	}
	if (run(o, o->threads, o->inserts, plain_writer, NULL, path, 0,
		&r->plain_write) != 0)
		goto out;
	/* One thread writes fewer rows when there are many: it is slow. */
	r->plain_write1_rows = nrows > 5000 ? 5000 : (int)nrows;
	if (run(o, 1, r->plain_write1_rows, plain_writer, NULL, path, 0,
		&r->plain_write1) != 0)
		goto out;
	rv = run(o, o->threads, o->reads, plain_reader, NULL, path, nrows,
		 &r->plain_read);
out:
	sqlite3_close(conn);
	return rv;
}

static void print_report(const options *o, const report *r)
{
	const db_stats_t *s = &r->stats;
	char name[64];

	printf("writes: %d threads x %d inserts of %zu bytes\n", o->threads,
	       o->inserts, o->body_len);
	print_result("db_write (group commit)", &r->engine_write);
	printf("  %-34s %llu commits (fsyncs), %.1f rows per commit, "
	       "largest batch %llu\n",
	       "", (unsigned long long)s->commits,
	       s->commits > 0 ? (double)s->jobs / (double)s->commits : 0.0,
	       (unsigned long long)s->max_batch);
	printf("  %-34s %llu checkpoints off the writer (longest %llu us), "
	       "%llu catch-ups\n",
	       "", (unsigned long long)s->checkpoints,
	       (unsigned long long)s->checkpoint_us_max,
	       (unsigned long long)s->catch_ups);
	printf("  %-34s between batches (longest %llu us), %llu WAL "
	       "restarts\n",
	       "", (unsigned long long)s->catch_up_us_max,
	       (unsigned long long)s->wal_restarts);
	print_result("plain SQLite, a connection each", &r->plain_write);
	printf("  %-34s %llu commits (fsyncs), 1 row per commit\n", "",
	       (unsigned long long)r->plain_write.ops);
	snprintf(name, sizeof(name), "plain SQLite, 1 thread, %d rows",
		 r->plain_write1_rows);
	print_result(name, &r->plain_write1);
	printf("  %-34s %d commits (fsyncs), 1 row per commit\n", "",
	       r->plain_write1_rows);
	if (r->plain_write.elapsed_us > 0 && r->plain_write1.elapsed_us > 0)
		printf("  %-34s %.1fx plain with as many threads, %.1fx plain "
		       "with one\n",
		       "db_write rows/s:",
		       per_sec(&r->engine_write) / per_sec(&r->plain_write),
		       per_sec(&r->engine_write) / per_sec(&r->plain_write1));

	printf("reads: %d threads x %d point lookups, a read transaction "
	       "each\n",
	       o->threads, o->reads);
	print_result("db_read (4 readers)", &r->engine_read);
	print_result("plain SQLite, a connection each", &r->plain_read);
}

int main(int argc, char **argv)
{
	options o;
	char dir[PATH_MAX + 32], engine_path[PATH_MAX + 64],
	    plain_path[PATH_MAX + 64];
	int rv = 1;

	if (parse_args(argc, argv, &o) != 0) {
		usage();
		return 2;
	}
	log_set_level(LOG_WARN);
	for (size_t i = 0; i < o.body_len; i++)
		body[i] = (uint8_t)(i * 131 + 7);

	snprintf(dir, sizeof(dir), "%s/db_bench-XXXXXX", o.dir);
	if (mkdtemp(dir) == NULL) {
		perror("db_bench: mkdtemp");
		return 1;
	}
	snprintf(engine_path, sizeof(engine_path), "%s/engine.db", dir);
	snprintf(plain_path, sizeof(plain_path), "%s/plain.db", dir);
	printf("db_bench: SQLite %s, databases in %s\n", sqlite3_libversion(),
	       dir);

	report r;
	memset(&r, 0, sizeof(r));
	if (bench_engine(&o, engine_path, &r) == 0 &&
	    bench_plain(&o, plain_path, &r) == 0) {
		print_report(&o, &r);
		rv = 0;
	}

	remove_db(engine_path);
	remove_db(plain_path);
	rmdir(dir);
	return rv;
}
