#include "db.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carta_error.h"
#include "log.h"
#include "query.h"

#define BUSY_TIMEOUT_MS 5000
#define READERS_MAX	64
/* Distinct statements db_prepare keeps per connection: far more than the
 * store has, so hitting it means SQL built at run time (a bug). */
#define STMT_CACHE_MAX 256
/* When the WAL restarts after a checkpoint, SQLite cuts the file back to
 * this size, so a burst that outran the checkpointer does not leave a large
 * file behind. */
#define WAL_LIMIT_BYTES (16 * 1024 * 1024)

/* Transaction control statements, prepared once per connection. */
enum {
	CTL_BEGIN,
	CTL_COMMIT,
	CTL_ROLLBACK,
	CTL_SAVEPOINT,
	CTL_RELEASE,
	CTL_ROLLBACK_TO,
	CTL_N,
};

static const char *const ctl_sql[CTL_N] = {
    [CTL_BEGIN] = NULL, /* per connection: see conn_prepare_ctl */
    [CTL_COMMIT] = "COMMIT",
    [CTL_ROLLBACK] = "ROLLBACK",
    [CTL_SAVEPOINT] = "SAVEPOINT job",
    [CTL_RELEASE] = "RELEASE job",
    [CTL_ROLLBACK_TO] = "ROLLBACK TO job",
};

typedef struct {
	const char *sql; /* the caller's string: compared by address */
	sqlite3_stmt *st;
} cached_stmt;

/* A connection, used by one thread at a time, with its statements. */
typedef struct {
	sqlite3 *conn;
	sqlite3_stmt *ctl[CTL_N];
	cached_stmt *cache;
	size_t ncache;
} db_conn;

/* A db_write call waiting on its caller's stack. */
typedef struct write_job {
	db_fn fn;
	void *arg;
	int rv;
	bool done;
	pthread_cond_t cond;
	struct write_job *next;
} write_job;

struct db {
	int version;
	db_conn writer;
	db_conn *readers;
	int nreaders;
	sqlite3 *ck_conn;

	/* The write queue and the writer's counters, under lock. The lock is
	 * never held across an SQLite call. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	write_job *head;
	write_job **tail;
	pthread_cond_t wdrained;
	bool stopping;
	int wusers; /* threads inside db_write */
	uint64_t queued;
	pthread_t writer_thread;
	uint64_t commits, commit_failures, jobs, jobs_failed, max_batch;

	/* The reader pool, under rlock. */
	pthread_mutex_t rlock;
	pthread_cond_t rfree;
	pthread_cond_t rdrained;
	int *free_idx;
	int nfree;
	int rusers; /* threads inside db_read, running or waiting */
	bool rstopping;
	uint64_t reads;

	/* The checkpointer, under ck_lock (also taken by the writer's WAL
	 * hook after each commit). */
	pthread_mutex_t ck_lock;
	pthread_cond_t ck_wake;
	bool ck_stop;
	int ck_pages;
	int ck_interval_ms;
	bool ck_retime;	       /* db_tune changed the interval */
	int64_t wal_pages;     /* frames in the WAL after the last commit */
	int64_t ck_base;       /* frames in the WAL at the last checkpoint */
	uint64_t wal_seq;      /* commits seen by the hook */
	uint64_t wal_restarts; /* times the WAL was seen to start over */
	uint64_t checkpoints, truncations, catch_ups;
	uint64_t checkpoint_us_max, catch_up_us_max;
	pthread_t ck_thread;
	/* Set by the checkpointer, cleared by the writer: see catch_up. */
	atomic_bool catch_up;
};

/* The connection of the db_fn running on this thread, for db_prepare; also
 * tells db_read and db_write that they were called from inside one. */
static _Thread_local db_conn *current;

int db_error(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_ROWID:
		return CARTA_EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return CARTA_ENOENT;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
		return CARTA_EINVAL;
	default:
		break;
	}
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		return CARTA_EEXIST;
	case SQLITE_NOMEM:
		return CARTA_ENOMEM;
	case SQLITE_CANTOPEN:
		return CARTA_ENOENT;
	case SQLITE_TOOBIG:
		return CARTA_ETOOBIG;
	default:
		return CARTA_EDB;
	}
}

/* Logs a failure of our own SQL (never of a job's, whose messages could
 * quote data) with SQLite's message. */
static int log_db(sqlite3 *conn, int rc, const char *what)
{
	log_event(LOG_ERROR, 0, "event=db_error op=%s rc=%d msg=\"%s\"", what,
		  rc, conn != NULL ? sqlite3_errmsg(conn) : sqlite3_errstr(rc));
	return db_error(rc);
}

static int exec(sqlite3 *conn, const char *sql, const char *what)
{
	int rc = sqlite3_exec(conn, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : log_db(conn, rc, what);
}

/* Runs a one-row, one-column statement such as a PRAGMA. Returns the
 * SQLite code; *text (up to cap bytes) or *num receives the value. */
static int query_one(sqlite3 *conn, const char *sql, char *text, size_t cap,
		     int *num)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(conn, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			if (text != NULL)
				snprintf(text, cap, "%s",
					 t != NULL ? (const char *)t : "");
			if (num != NULL)
				*num = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- connections ---- */

static int conn_open(db_conn *c, const char *path, int flags)
{
	int rc =
	    sqlite3_open_v2(path, &c->conn, flags | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		/* CARTA_ENOENT (missing file without create) is not logged
		 * here: the caller says what it means. */
		int rv = db_error(rc);
		if (rv != CARTA_ENOENT)
			log_db(c->conn, rc, "open");
		sqlite3_close(c->conn);
		c->conn = NULL;
		return rv;
	}
	sqlite3_extended_result_codes(c->conn, 1);
	sqlite3_busy_timeout(c->conn, BUSY_TIMEOUT_MS);
	/* Search's SQL functions, before migrations create the triggers
	 * that call them (query.h). */
	if (query_sql_functions(c->conn) != 0) {
		sqlite3_close(c->conn);
		c->conn = NULL;
		return CARTA_EDB;
	}
	return 0;
}

/* begin is the statement that opens a transaction on this connection. */
static int conn_prepare_ctl(db_conn *c, const char *begin)
{
	for (int i = 0; i < CTL_N; i++) {
		const char *sql = i == CTL_BEGIN ? begin : ctl_sql[i];
		int rc = sqlite3_prepare_v3(c->conn, sql, -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &c->ctl[i], NULL);
		if (rc != SQLITE_OK)
			return log_db(c->conn, rc, "prepare");
	}
	return 0;
}

static void conn_close(db_conn *c)
{
	if (c->conn == NULL)
		return;
	for (size_t i = 0; i < c->ncache; i++)
		sqlite3_finalize(c->cache[i].st);
	free(c->cache);
	for (int i = 0; i < CTL_N; i++)
		sqlite3_finalize(c->ctl[i]);
	int rc = sqlite3_close(c->conn);
	if (rc != SQLITE_OK)
		log_db(c->conn, rc, "close");
	memset(c, 0, sizeof(*c));
}

/* Steps a transaction control statement. Returns the SQLite code. */
static int ctl(db_conn *c, int which)
{
	sqlite3_stmt *st = c->ctl[which];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Resets the cached statements a job left running, so that they hold no
 * lock and do not stop the RELEASE or COMMIT after it. */
static void conn_reset_busy(db_conn *c)
{
	for (size_t i = 0; i < c->ncache; i++)
		if (sqlite3_stmt_busy(c->cache[i].st))
			sqlite3_reset(c->cache[i].st);
}

int db_prepare(sqlite3 *conn, const char *sql, sqlite3_stmt **out)
{
	db_conn *c = current;
	sqlite3_stmt *st = NULL;

	if (c == NULL || c->conn != conn)
		return CARTA_ESTATE;
	for (size_t i = 0; i < c->ncache; i++) {
		if (c->cache[i].sql == sql) {
			st = c->cache[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			*out = st;
			return 0;
		}
	}

	if (c->ncache == STMT_CACHE_MAX) {
		log_event(LOG_ERROR, 0,
			  "event=db_error op=prepare "
			  "reason=statement_cache_full");
		return CARTA_ETOOBIG;
	}
	/* Grows one entry at a time: this happens once per statement. */
	cached_stmt *grown =
	    realloc(c->cache, (c->ncache + 1) * sizeof(*c->cache));
	if (grown == NULL)
		return CARTA_ENOMEM;
	c->cache = grown;
	int rc = sqlite3_prepare_v3(conn, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    &st, NULL);
	if (rc != SQLITE_OK)
		return log_db(conn, rc, "prepare");
	c->cache[c->ncache].sql = sql;
	c->cache[c->ncache].st = st;
	c->ncache++;
	*out = st;
	return 0;
}

/* ---- opening and migrations ---- */

static int migrate(db *d, const db_migration *migs, size_t nmigs)
{
	sqlite3 *conn = d->writer.conn;
	const int target = (int)nmigs;
	char sql[64];
	int v = -1;

	int rc = query_one(conn, "PRAGMA user_version", NULL, 0, &v);
	if (rc != SQLITE_OK)
		return log_db(conn, rc, "user_version");
	if (v < 0 || v > target) {
		log_event(LOG_ERROR, 0,
			  "event=schema_too_new version=%d supported=%d", v,
			  target);
		return CARTA_EDB;
	}

	for (; v < target; v++) {
		int rv = exec(conn, "BEGIN IMMEDIATE", "migrate");
		if (rv != 0)
			return rv;
		rv = exec(conn, migs[v].sql, "migrate");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (rv == 0)
			rv = exec(conn, sql, "migrate");
		if (rv == 0)
			rv = exec(conn, "COMMIT", "migrate");
		if (rv != 0) {
			if (!sqlite3_get_autocommit(conn))
				sqlite3_exec(conn, "ROLLBACK", NULL, NULL,
					     NULL);
			log_event(LOG_ERROR, 0,
				  "event=migration_failed schema_version=%d",
				  v + 1);
			return rv;
		}
		log_event(LOG_INFO, 0, "event=migrated schema_version=%d",
			  v + 1);
	}
	d->version = target;
	return 0;
}

static int on_wal_commit(void *arg, sqlite3 *conn, const char *name, int pages);

static int open_writer(db *d, const char *path, int create,
		       const db_migration *migs, size_t nmigs)
{
	char mode[16] = "";
	char sql[192];

	int rv = conn_open(&d->writer, path,
			   SQLITE_OPEN_READWRITE |
			       (create ? SQLITE_OPEN_CREATE : 0));
	if (rv != 0)
		return rv;
	sqlite3 *conn = d->writer.conn;

	int rc = query_one(conn, "PRAGMA journal_mode = WAL", mode,
			   sizeof(mode), NULL);
	if (rc != SQLITE_OK) {
		rv = log_db(conn, rc, "journal_mode");
		goto err_after_open;
	}
	if (strcmp(mode, "wal") != 0) {
		log_event(LOG_ERROR, 0,
			  "event=db_error op=journal_mode "
			  "reason=wal_refused");
		rv = CARTA_EDB;
		goto err_after_open;
	}
	/* Commits never checkpoint: the checkpointer thread does. */
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = FULL;"
		 "PRAGMA foreign_keys = ON;"
		 "PRAGMA wal_autocheckpoint = 0;"
		 "PRAGMA journal_size_limit = %d;",
		 WAL_LIMIT_BYTES);
	rv = exec(conn, sql, "pragma");
	if (rv != 0)
		goto err_after_open;

	rv = migrate(d, migs, nmigs);
	if (rv != 0)
		goto err_after_open;
	/* IMMEDIATE: take the write lock up front, so that a database busy
	 * in another process shows at BEGIN, not half way through a batch. */
	rv = conn_prepare_ctl(&d->writer, "BEGIN IMMEDIATE");
	if (rv != 0)
		goto err_after_open;
	sqlite3_wal_hook(conn, on_wal_commit, d);
	return 0;

err_after_open:
	conn_close(&d->writer);
	return rv;
}

static int open_readers(db *d, const char *path)
{
	int rv = 0;

	d->readers = calloc((size_t)d->nreaders, sizeof(*d->readers));
	d->free_idx = calloc((size_t)d->nreaders, sizeof(*d->free_idx));
	if (d->readers == NULL || d->free_idx == NULL) {
		rv = CARTA_ENOMEM;
		goto err;
	}
	for (int i = 0; i < d->nreaders; i++) {
		db_conn *c = &d->readers[i];
		rv = conn_open(c, path, SQLITE_OPEN_READONLY);
		if (rv == 0)
			rv = exec(c->conn, "PRAGMA query_only = ON", "pragma");
		if (rv == 0)
			rv = conn_prepare_ctl(c, "BEGIN");
		if (rv != 0)
			goto err;
		d->free_idx[d->nfree++] = i;
	}
	return 0;

err:
	for (int i = 0; d->readers != NULL && i < d->nreaders; i++)
		conn_close(&d->readers[i]);
	free(d->readers);
	free(d->free_idx);
	d->readers = NULL;
	d->free_idx = NULL;
	d->nfree = 0;
	return rv;
}

static int open_checkpointer(db *d, const char *path)
{
	db_conn c = {0};

	int rv = conn_open(&c, path, SQLITE_OPEN_READWRITE);
	if (rv != 0)
		return rv;
	/* Never wait: a checkpoint that finds the writer or a reader in the
	 * way does what it can and the next one does the rest. */
	sqlite3_busy_timeout(c.conn, 0);
	rv = exec(c.conn, "PRAGMA synchronous = FULL", "pragma");
	if (rv != 0) {
		conn_close(&c);
		return rv;
	}
	d->ck_conn = c.conn;
	return 0;
}

static int init_sync(db *d)
{
	pthread_condattr_t attr;
	int err = 0;

	if (pthread_condattr_init(&attr) != 0)
		return CARTA_ENOMEM;
	/* The checkpointer's interval must not jump with the wall clock. */
	err |= pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	err |= pthread_cond_init(&d->ck_wake, &attr);
	pthread_condattr_destroy(&attr);
	err |= pthread_mutex_init(&d->lock, NULL);
	err |= pthread_cond_init(&d->wake, NULL);
	err |= pthread_cond_init(&d->wdrained, NULL);
	err |= pthread_mutex_init(&d->rlock, NULL);
	err |= pthread_cond_init(&d->rfree, NULL);
	err |= pthread_cond_init(&d->rdrained, NULL);
	err |= pthread_mutex_init(&d->ck_lock, NULL);
	/* These only fail on resource exhaustion with default attributes. */
	return err != 0 ? CARTA_ENOMEM : 0;
}

static void destroy_sync(db *d)
{
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->wake);
	pthread_cond_destroy(&d->wdrained);
	pthread_mutex_destroy(&d->rlock);
	pthread_cond_destroy(&d->rfree);
	pthread_cond_destroy(&d->rdrained);
	pthread_mutex_destroy(&d->ck_lock);
	pthread_cond_destroy(&d->ck_wake);
}

static void *writer_main(void *arg);
static void *checkpointer_main(void *arg);

int db_open(const char *path, int create, const db_migration *migs,
	    size_t nmigs, int nreaders, db **out)
{
	int rv;

	if (path == NULL || out == NULL || nreaders < 1 ||
	    nreaders > READERS_MAX || (nmigs > 0 && migs == NULL))
		return CARTA_EINVAL;
	for (size_t i = 0; i < nmigs; i++)
		if (migs[i].version != (int)i + 1 || migs[i].sql == NULL)
			return CARTA_EINVAL;

	db *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return CARTA_ENOMEM;
	d->tail = &d->head;
	d->nreaders = nreaders;
	d->ck_pages = DB_CHECKPOINT_PAGES;
	d->ck_interval_ms = DB_CHECKPOINT_INTERVAL_MS;
	rv = init_sync(d);
	if (rv != 0)
		goto err_after_alloc;

	rv = open_writer(d, path, create, migs, nmigs);
	if (rv != 0)
		goto err_after_sync;
	rv = open_readers(d, path);
	if (rv != 0)
		goto err_after_writer;
	rv = open_checkpointer(d, path);
	if (rv != 0)
		goto err_after_readers;

	if (pthread_create(&d->writer_thread, NULL, writer_main, d) != 0) {
		rv = CARTA_ENOMEM;
		goto err_after_checkpointer;
	}
	if (pthread_create(&d->ck_thread, NULL, checkpointer_main, d) != 0) {
		rv = CARTA_ENOMEM;
		goto err_after_writer_thread;
	}
	log_event(LOG_INFO, 0, "event=db_opened schema_version=%d readers=%d",
		  d->version, nreaders);
	*out = d;
	return 0;

err_after_writer_thread:
	db_shutdown(d);
	pthread_join(d->writer_thread, NULL);
err_after_checkpointer:
	sqlite3_close(d->ck_conn);
err_after_readers:
	for (int i = 0; i < d->nreaders; i++)
		conn_close(&d->readers[i]);
	free(d->readers);
	free(d->free_idx);
err_after_writer:
	conn_close(&d->writer);
err_after_sync:
	destroy_sync(d);
err_after_alloc:
	free(d);
	return rv;
}

/* ---- shutdown ---- */

void db_shutdown(db *d)
{
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);

	pthread_mutex_lock(&d->rlock);
	d->rstopping = true;
	pthread_cond_broadcast(&d->rfree);
	pthread_mutex_unlock(&d->rlock);
}

void db_close(db *d)
{
	if (d == NULL)
		return;
	db_shutdown(d);

	/* The writer drains the queue before it returns; then every caller
	 * still inside db_write or db_read must have left before d goes. */
	pthread_join(d->writer_thread, NULL);
	pthread_mutex_lock(&d->lock);
	while (d->wusers > 0)
		pthread_cond_wait(&d->wdrained, &d->lock);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_lock(&d->rlock);
	while (d->rusers > 0)
		pthread_cond_wait(&d->rdrained, &d->rlock);
	pthread_mutex_unlock(&d->rlock);

	pthread_mutex_lock(&d->ck_lock);
	d->ck_stop = true;
	pthread_cond_signal(&d->ck_wake);
	pthread_mutex_unlock(&d->ck_lock);
	pthread_join(d->ck_thread, NULL);

	/* The writer closes last: as the last connection it checkpoints
	 * and removes the WAL. */
	for (int i = 0; i < d->nreaders; i++)
		conn_close(&d->readers[i]);
	int rc = sqlite3_close(d->ck_conn);
	if (rc != SQLITE_OK)
		log_db(d->ck_conn, rc, "close");
	conn_close(&d->writer);

	log_event(LOG_INFO, 0,
		  "event=db_closed commits=%llu jobs=%llu checkpoints=%llu",
		  (unsigned long long)d->commits, (unsigned long long)d->jobs,
		  (unsigned long long)d->checkpoints);
	free(d->readers);
	free(d->free_idx);
	destroy_sync(d);
	free(d);
}

/* ---- reads ---- */

int db_read(db *d, db_fn fn, void *arg)
{
	bool ran = false;
	int rv;

	if (current != NULL)
		return CARTA_ESTATE;
	pthread_mutex_lock(&d->rlock);
	if (d->rstopping) {
		pthread_mutex_unlock(&d->rlock);
		return CARTA_ESTATE;
	}
	d->rusers++;
	while (d->nfree == 0 && !d->rstopping)
		pthread_cond_wait(&d->rfree, &d->rlock);
	if (d->rstopping) {
		rv = CARTA_ESTATE;
		goto leave;
	}
	int idx = d->free_idx[--d->nfree];
	pthread_mutex_unlock(&d->rlock);

	db_conn *c = &d->readers[idx];
	int rc = ctl(c, CTL_BEGIN);
	if (rc != SQLITE_OK) {
		rv = log_db(c->conn, rc, "read_begin");
		goto out;
	}
	current = c;
	rv = fn(c->conn, arg);
	current = NULL;
	ran = true;
	conn_reset_busy(c);
	rc = ctl(c, rv == 0 ? CTL_COMMIT : CTL_ROLLBACK);
	if (rc != SQLITE_OK) {
		log_db(c->conn, rc, "read_end");
		if (!sqlite3_get_autocommit(c->conn))
			ctl(c, CTL_ROLLBACK);
		if (rv == 0)
			rv = CARTA_EDB;
	}

out:
	pthread_mutex_lock(&d->rlock);
	d->free_idx[d->nfree++] = idx;
	if (ran)
		d->reads++;
	pthread_cond_signal(&d->rfree);
leave:
	d->rusers--;
	if (d->rstopping && d->rusers == 0)
		pthread_cond_signal(&d->rdrained);
	pthread_mutex_unlock(&d->rlock);
	return rv;
}

/* ---- writes ---- */

int db_write(db *d, db_fn fn, void *arg)
{
	write_job j = {.fn = fn, .arg = arg};

	if (current != NULL)
		return CARTA_ESTATE;
	if (pthread_cond_init(&j.cond, NULL) != 0)
		return CARTA_ENOMEM;

	pthread_mutex_lock(&d->lock);
	if (d->stopping) {
		pthread_mutex_unlock(&d->lock);
		pthread_cond_destroy(&j.cond);
		return CARTA_ESTATE;
	}
	/* The writer sleeps only on an empty queue. */
	if (d->head == NULL)
		pthread_cond_signal(&d->wake);
	*d->tail = &j;
	d->tail = &j.next;
	d->queued++;
	d->wusers++;
	while (!j.done)
		pthread_cond_wait(&j.cond, &d->lock);
	d->wusers--;
	if (d->stopping && d->wusers == 0)
		pthread_cond_signal(&d->wdrained);
	pthread_mutex_unlock(&d->lock);

	pthread_cond_destroy(&j.cond);
	return j.rv;
}

/* Runs one job inside its own savepoint. Returns false when the batch's
 * transaction is lost (SQLite rolled it back, or a savepoint failed). */
static bool run_job(db_conn *c, write_job *j)
{
	int rc = ctl(c, CTL_SAVEPOINT);
	if (rc != SQLITE_OK) {
		log_db(c->conn, rc, "savepoint");
		return false;
	}

	j->rv = j->fn(c->conn, j->arg);
	conn_reset_busy(c);
	/* Some errors (I/O, disk full) roll back the whole transaction. */
	if (sqlite3_get_autocommit(c->conn)) {
		log_event(LOG_ERROR, 0,
			  "event=db_error op=write reason=transaction_lost "
			  "job_rv=%d",
			  j->rv);
		return false;
	}

	if (j->rv != 0) {
		rc = ctl(c, CTL_ROLLBACK_TO);
		if (rc != SQLITE_OK) {
			log_db(c->conn, rc, "rollback_to");
			return false;
		}
	}
	rc = ctl(c, CTL_RELEASE);
	if (rc != SQLITE_OK) {
		log_db(c->conn, rc, "release");
		return false;
	}
	return true;
}

/* Runs a batch in one transaction and sets every job's rv. Returns true
 * when the transaction committed. */
static bool run_batch(db_conn *c, write_job *batch)
{
	bool ok = true;

	int rc = ctl(c, CTL_BEGIN);
	if (rc != SQLITE_OK) {
		log_db(c->conn, rc, "begin");
		ok = false;
	}
	for (write_job *j = batch; ok && j != NULL; j = j->next)
		ok = run_job(c, j);
	if (ok) {
		rc = ctl(c, CTL_COMMIT);
		if (rc != SQLITE_OK) {
			log_db(c->conn, rc, "commit");
			ok = false;
		}
	}

	if (!ok) {
		if (!sqlite3_get_autocommit(c->conn))
			ctl(c, CTL_ROLLBACK);
		for (write_job *j = batch; j != NULL; j = j->next)
			j->rv = CARTA_EDB;
	}
	return ok;
}

/* The WAL starts over (instead of growing) only when a write transaction
 * begins with every frame already copied to the database. Under a steady
 * stream of writes that never happens by itself: the writer is nearly
 * always inside a transaction it began before the checkpointer finished.
 * So once the checkpointer has copied the bulk, the writer, between two
 * batches, copies the frames it committed meanwhile; its next transaction
 * then starts the WAL over. That costs a short checkpoint (the tail and
 * one fsync of the database file) per checkpoint cycle, instead of the
 * whole checkpoint inside a commit. */
static void catch_up(db *d)
{
	int frames = -1, backfilled = -1;

	uint64_t t0 = now_us();
	int rc = sqlite3_wal_checkpoint_v2(d->writer.conn, NULL,
					   SQLITE_CHECKPOINT_PASSIVE, &frames,
					   &backfilled);
	uint64_t us = now_us() - t0;
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_event(LOG_WARN, 0,
			  "event=checkpoint_failed mode=catch_up rc=%d "
			  "msg=\"%s\"",
			  rc, sqlite3_errmsg(d->writer.conn));
	if (rc == SQLITE_OK) {
		pthread_mutex_lock(&d->ck_lock);
		d->catch_ups++;
		if (us > d->catch_up_us_max)
			d->catch_up_us_max = us;
		pthread_mutex_unlock(&d->ck_lock);
	}
}

static void *writer_main(void *arg)
{
	db *d = arg;
	db_conn *c = &d->writer;

	current = c;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (d->head == NULL && !d->stopping)
			pthread_cond_wait(&d->wake, &d->lock);
		if (d->head == NULL)
			break;
		write_job *batch = d->head;
		d->head = NULL;
		d->tail = &d->head;
		d->queued = 0;
		pthread_mutex_unlock(&d->lock);

		bool ok = run_batch(c, batch);

		pthread_mutex_lock(&d->lock);
		uint64_t n = 0;
		/* Each waiter returns only after it sees done under the lock,
		 * so its job stays valid until the lock is released. */
		for (write_job *j = batch, *next; j != NULL; j = next) {
			next = j->next;
			n++;
			if (ok && j->rv == 0)
				d->jobs++;
			else if (ok)
				d->jobs_failed++;
			j->done = true;
			pthread_cond_signal(&j->cond);
		}
		if (ok)
			d->commits++;
		else
			d->commit_failures++;
		if (n > d->max_batch)
			d->max_batch = n;

		if (atomic_exchange(&d->catch_up, false)) {
			pthread_mutex_unlock(&d->lock);
			catch_up(d);
			pthread_mutex_lock(&d->lock);
		}
	}
	pthread_mutex_unlock(&d->lock);
	current = NULL;
	return NULL;
}

/* ---- checkpoints ---- */

/* Called by SQLite on the writer thread after each commit, with the number
 * of frames now in the WAL. Wakes the checkpointer once enough have
 * accumulated since the last checkpoint. */
static int on_wal_commit(void *arg, sqlite3 *conn, const char *name, int pages)
{
	db *d = arg;

	(void)conn;
	(void)name;
	pthread_mutex_lock(&d->ck_lock);
	/* Fewer frames than before: the writer started the WAL over. */
	if (pages < d->wal_pages) {
		d->ck_base = 0;
		d->wal_restarts++;
	}
	d->wal_pages = pages;
	d->wal_seq++;
	if (d->wal_pages - d->ck_base >= d->ck_pages)
		pthread_cond_signal(&d->ck_wake);
	pthread_mutex_unlock(&d->ck_lock);
	return SQLITE_OK;
}

/* Runs one checkpoint without ck_lock held (taken on entry and return). */
static void checkpoint(db *d, int mode)
{
	const uint64_t seq = d->wal_seq, restarts = d->wal_restarts;
	int frames = -1, backfilled = -1;

	pthread_mutex_unlock(&d->ck_lock);
	uint64_t t0 = now_us();
	int rc = sqlite3_wal_checkpoint_v2(d->ck_conn, NULL, mode, &frames,
					   &backfilled);
	uint64_t us = now_us() - t0;
	pthread_mutex_lock(&d->ck_lock);

	const char *name =
	    mode == SQLITE_CHECKPOINT_TRUNCATE ? "truncate" : "passive";
	if (rc == SQLITE_OK) {
		d->checkpoints++;
		if (mode == SQLITE_CHECKPOINT_TRUNCATE)
			d->truncations++;
		if (us > d->checkpoint_us_max)
			d->checkpoint_us_max = us;
		log_event(LOG_DEBUG, 0,
			  "event=checkpoint mode=%s frames=%d backfilled=%d "
			  "us=%llu",
			  name, frames, backfilled, (unsigned long long)us);
	} else if (rc != SQLITE_BUSY) {
		log_event(LOG_WARN, 0,
			  "event=checkpoint_failed mode=%s rc=%d msg=\"%s\"",
			  name, rc, sqlite3_errmsg(d->ck_conn));
	}
	/* What the checkpoint saw is current only if the writer did not
	 * commit (or start the WAL over) meanwhile. */
	if (frames >= 0 && d->wal_restarts == restarts)
		d->ck_base = frames;
	/* The writer was most likely inside a transaction meanwhile, begun
	 * before the copy was complete: it copies what it committed since
	 * and starts the WAL over (see catch_up). */
	if (rc == SQLITE_OK && mode == SQLITE_CHECKPOINT_PASSIVE &&
	    backfilled > 0)
		atomic_store(&d->catch_up, true);
	if (frames >= 0 && d->wal_seq == seq)
		d->wal_pages = frames;
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *checkpointer_main(void *arg)
{
	db *d = arg;
	struct timespec deadline;

	pthread_mutex_lock(&d->ck_lock);
	/* One at start also learns the size of a WAL left behind. */
	int mode = SQLITE_CHECKPOINT_PASSIVE;
	uint64_t seen_seq = d->wal_seq;
	bool waiting = false;
	for (;;) {
		if (mode >= 0)
			checkpoint(d, mode);
		mode = -1;
		if (d->ck_stop)
			break;
		if (d->wal_pages - d->ck_base >= d->ck_pages) {
			mode = SQLITE_CHECKPOINT_PASSIVE;
			waiting = false;
			continue;
		}

		if (!waiting || d->ck_retime)
			deadline_after(&deadline, d->ck_interval_ms);
		d->ck_retime = false;
		int err =
		    pthread_cond_timedwait(&d->ck_wake, &d->ck_lock, &deadline);
		if (d->ck_stop)
			break;
		waiting = err != ETIMEDOUT;
		if (waiting)
			continue;

		/* The interval passed: checkpoint what came in, or when no
		 * commit came in for a whole interval, empty the WAL. */
		if (d->wal_seq == seen_seq && d->wal_pages > 0)
			mode = SQLITE_CHECKPOINT_TRUNCATE;
		else if (d->wal_pages > d->ck_base)
			mode = SQLITE_CHECKPOINT_PASSIVE;
		seen_seq = d->wal_seq;
	}
	pthread_mutex_unlock(&d->ck_lock);
	return NULL;
}

void db_tune(db *d, int checkpoint_pages, int checkpoint_interval_ms)
{
	pthread_mutex_lock(&d->ck_lock);
	if (checkpoint_pages > 0)
		d->ck_pages = checkpoint_pages;
	if (checkpoint_interval_ms > 0) {
		d->ck_interval_ms = checkpoint_interval_ms;
		d->ck_retime = true;
	}
	pthread_cond_signal(&d->ck_wake);
	pthread_mutex_unlock(&d->ck_lock);
}

/* ---- introspection ---- */

int db_schema_version(db *d)
{
	return d->version;
}

void db_stats(db *d, db_stats_t *out)
{
	memset(out, 0, sizeof(*out));

	pthread_mutex_lock(&d->lock);
	out->commits = d->commits;
	out->commit_failures = d->commit_failures;
	out->jobs = d->jobs;
	out->jobs_failed = d->jobs_failed;
	out->max_batch = d->max_batch;
	out->queued = d->queued;
	pthread_mutex_unlock(&d->lock);

	pthread_mutex_lock(&d->rlock);
	out->reads = d->reads;
	pthread_mutex_unlock(&d->rlock);

	pthread_mutex_lock(&d->ck_lock);
	out->checkpoints = d->checkpoints;
	out->truncations = d->truncations;
	out->catch_ups = d->catch_ups;
	out->checkpoint_us_max = d->checkpoint_us_max;
	out->catch_up_us_max = d->catch_up_us_max;
	out->wal_restarts = d->wal_restarts;
	out->wal_pages = d->wal_pages > 0 ? (uint64_t)d->wal_pages : 0;
	pthread_mutex_unlock(&d->ck_lock);
}
