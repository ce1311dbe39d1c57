/* The SQLite engine: migrations, group commit with durable answers, a
 * failing job rolled back alone, read snapshots, shutdown with writes
 * queued, and the checkpointer keeping the WAL bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "carta_error.h"
#include "db.h"

static char dir[64];
static char path[PATH_MAX];

static const db_migration migs[] = {
    {1, "CREATE TABLE steps (id INTEGER PRIMARY KEY, step INTEGER);"
	"INSERT INTO steps (step) VALUES (1);"},
    {2, "CREATE TABLE rows (id INTEGER PRIMARY KEY,"
	"  thread INTEGER NOT NULL, n INTEGER NOT NULL, body BLOB,"
	"  UNIQUE (thread, n));"
	"INSERT INTO steps (step) VALUES (2);"},
    {3, "CREATE TABLE accounts (id INTEGER PRIMARY KEY,"
	"  balance INTEGER NOT NULL CHECK (balance >= 0));"
	"INSERT INTO accounts VALUES (1, 100), (2, 0);"
	"INSERT INTO steps (step) VALUES (3);"},
};
#define NMIGS (sizeof(migs) / sizeof(migs[0]))

static void remove_db(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char p[PATH_MAX + 8];

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/carta-db-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/carta.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_db();
	return rmdir(dir);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static long long wal_size(void)
{
	char p[PATH_MAX + 8];
	struct stat st;

	snprintf(p, sizeof(p), "%s-wal", path);
	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static db *open_all(void)
{
	db *d = NULL;

	assert_int_equal(db_open(path, 1, migs, NMIGS, 4, &d), 0);
	return d;
}

/* ---- jobs ---- */

typedef struct {
	const char *sql; /* a literal, so db_prepare may keep it */
	int64_t p1, p2;	 /* bound to ?1 and ?2 when the SQL has them */
	int64_t value;
} query;

/* Reads one integer; CARTA_ENOENT when there is no row. */
static int query_int(sqlite3 *conn, void *arg)
{
	query *q = arg;
	sqlite3_stmt *st = NULL;

	int rv = db_prepare(conn, q->sql, &st);
	if (rv != 0)
		return rv;
	int nparams = sqlite3_bind_parameter_count(st);
	if (nparams >= 1)
		sqlite3_bind_int64(st, 1, q->p1);
	if (nparams >= 2)
		sqlite3_bind_int64(st, 2, q->p2);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		q->value = sqlite3_column_int64(st, 0);
		return 0;
	}
	return rc == SQLITE_DONE ? CARTA_ENOENT : db_error(rc);
}

static int64_t read_int(db *d, const char *sql, int64_t p1, int64_t p2)
{
	query q = {sql, p1, p2, -1};

	assert_int_equal(db_read(d, query_int, &q), 0);
	return q.value;
}

/* As read_int without cmocka, for other threads: -1 on error. */
static int64_t row_count(db *d, int thread, int n)
{
	query q = {"SELECT count(*) FROM rows WHERE thread = ? AND n = ?",
		   thread, n, -1};

	return db_read(d, query_int, &q) == 0 ? q.value : -1;
}

typedef struct {
	int thread;
	int n;
	size_t body_len;
	int fail_after; /* the job's result after inserting, 0 to succeed */
} row;

static int insert_row(sqlite3 *conn, void *arg)
{
	static const uint8_t zeros[4096];
	const row *r = arg;
	sqlite3_stmt *st = NULL;

	int rv = db_prepare(
	    conn, "INSERT INTO rows (thread, n, body) VALUES (?, ?, ?)", &st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int(st, 1, r->thread);
	sqlite3_bind_int(st, 2, r->n);
	sqlite3_bind_blob(st, 3, zeros, (int)r->body_len, SQLITE_STATIC);
	rv = db_error(sqlite3_step(st));
	return rv != 0 ? rv : r->fail_after;
}

/* Inserts the row twice: the second violates UNIQUE after the first
 * succeeded, so the job fails with a change already made. */
static int insert_twice(sqlite3 *conn, void *arg)
{
	int rv = insert_row(conn, arg);

	return rv != 0 ? rv : insert_row(conn, arg);
}

/* Moves *arg from account 2 to account 1 (negative: the other way). */
static int transfer(sqlite3 *conn, void *arg)
{
	static const char *const sql[2] = {
	    "UPDATE accounts SET balance = balance + ? WHERE id = 1",
	    "UPDATE accounts SET balance = balance - ? WHERE id = 2"};
	const int64_t *amount = arg;

	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = NULL;
		int rv = db_prepare(conn, sql[i], &st);
		if (rv != 0)
			return rv;
		sqlite3_bind_int64(st, 1, *amount);
		rv = db_error(sqlite3_step(st));
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* A db_write on a thread of its own. */
typedef struct {
	db *d;
	db_fn fn;
	void *arg;
	int rv;
	pthread_t t;
} call;

static void *call_main(void *p)
{
	call *c = p;

	c->rv = db_write(c->d, c->fn, c->arg);
	return NULL;
}

static void call_start(call *c, db *d, db_fn fn, void *arg)
{
	c->d = d;
	c->fn = fn;
	c->arg = arg;
	c->rv = 1;
	assert_int_equal(pthread_create(&c->t, NULL, call_main, c), 0);
}

static uint64_t stat_queued(db *d)
{
	db_stats_t s;

	db_stats(d, &s);
	return s.queued;
}

/* Waits until the queue holds n writes; fails the test after 10 s. */
static void wait_queued(db *d, uint64_t n)
{
	uint64_t deadline = now_ms() + 10000;

	while (stat_queued(d) != n && now_ms() < deadline)
		sleep_ms(1);
	assert_int_equal(stat_queued(d), n);
}

/* A write job that holds the writer until released, so that the writes
 * queued meanwhile form the next batch. */
typedef struct {
	atomic_bool entered;
	atomic_bool release;
	row r;
} gate;

static int gate_job(sqlite3 *conn, void *arg)
{
	gate *g = arg;
	uint64_t deadline = now_ms() + 10000;

	atomic_store(&g->entered, true);
	while (!atomic_load(&g->release) && now_ms() < deadline)
		sleep_ms(1);
	return insert_row(conn, &g->r);
}

static void gate_hold(gate *g, call *c, db *d)
{
	memset(g, 0, sizeof(*g));
	g->r.thread = 99;
	call_start(c, d, gate_job, g);
	uint64_t deadline = now_ms() + 10000;
	while (!atomic_load(&g->entered) && now_ms() < deadline)
		sleep_ms(1);
	assert_true(atomic_load(&g->entered));
}

/* ---- tests ---- */

static void test_migrations_applied_once_in_order(void **state)
{
	db *d = NULL;

	(void)state;
	assert_int_equal(db_open(path, 0, migs, NMIGS, 1, &d), CARTA_ENOENT);
	assert_null(d);

	assert_int_equal(db_open(path, 1, migs, 2, 1, &d), 0);
	assert_int_equal(db_schema_version(d), 2);
	assert_int_equal(read_int(d, "PRAGMA user_version", 0, 0), 2);
	db_close(d);

	/* Reopening applies only the new one; again, none. */
	for (int round = 0; round < 2; round++) {
		d = NULL;
		assert_int_equal(db_open(path, 0, migs, NMIGS, 1, &d), 0);
		assert_int_equal(db_schema_version(d), 3);
		assert_int_equal(read_int(d, "PRAGMA user_version", 0, 0), 3);
		assert_int_equal(
		    read_int(d, "SELECT count(*) FROM steps", 0, 0), 3);
		assert_int_equal(
		    read_int(d, "SELECT count(*) FROM steps WHERE id = step", 0,
			     0),
		    3);
		db_close(d);
	}
}

static void test_migrations_refused(void **state)
{
	db_migration bad[NMIGS + 1];
	db *d = NULL;

	(void)state;
	assert_int_equal(db_open(path, 1, migs, NMIGS, 1, &d), 0);
	db_close(d);

	/* Newer than this code knows. */
	d = NULL;
	assert_int_equal(db_open(path, 0, migs, 2, 1, &d), CARTA_EDB);
	assert_null(d);

	/* Out of order. */
	memcpy(bad, migs, sizeof(migs));
	bad[1].version = 3;
	assert_int_equal(db_open(path, 0, bad, NMIGS, 1, &d), CARTA_EINVAL);

	/* A failing migration leaves nothing of itself behind. */
	memcpy(bad, migs, sizeof(migs));
	bad[NMIGS].version = (int)NMIGS + 1;
	bad[NMIGS].sql = "CREATE TABLE t4 (x); CREATE TABLE steps (x);";
	assert_int_equal(db_open(path, 0, bad, NMIGS + 1, 1, &d), CARTA_EDB);
	assert_null(d);
	assert_int_equal(db_open(path, 0, migs, NMIGS, 1, &d), 0);
	assert_int_equal(db_schema_version(d), 3);
	assert_int_equal(read_int(d,
				  "SELECT count(*) FROM sqlite_master WHERE "
				  "name = 't4'",
				  0, 0),
			 0);
	db_close(d);
}

#define NWRITERS 8
#define NROWS	 60

typedef struct {
	db *d;
	int thread;
	int rows;
	size_t body_len;
	bool check_visible;
	int failures;  /* db_write results other than 0 */
	int invisible; /* rows a new reader did not see right after */
} writer;

static void *writer_main(void *p)
{
	writer *w = p;

	for (int n = 0; n < w->rows; n++) {
		row r = {w->thread, n, w->body_len, 0};
		if (db_write(w->d, insert_row, &r) != 0)
			w->failures++;
		else if (w->check_visible && row_count(w->d, w->thread, n) != 1)
			w->invisible++;
	}
	return NULL;
}

/* Eight threads write at once: every row lands, batches form, and each
 * row is visible to a new read transaction as soon as its db_write
 * returns. */
static void test_concurrent_writers_group_commit(void **state)
{
	writer w[NWRITERS];
	pthread_t t[NWRITERS];
	db_stats_t s;

	(void)state;
	db *d = open_all();
	for (int i = 0; i < NWRITERS; i++) {
		w[i] = (writer){d, i, NROWS, 16, true, 0, 0};
		assert_int_equal(
		    pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < NWRITERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
		assert_int_equal(w[i].invisible, 0);
	}

	assert_int_equal(read_int(d, "SELECT count(*) FROM rows", 0, 0),
			 NWRITERS * NROWS);
	for (int i = 0; i < NWRITERS; i++)
		assert_int_equal(read_int(d,
					  "SELECT count(DISTINCT n) FROM rows "
					  "WHERE thread = ?",
					  i, 0),
				 NROWS);
	db_stats(d, &s);
	print_message("writes=%llu commits=%llu max_batch=%llu\n",
		      (unsigned long long)s.jobs, (unsigned long long)s.commits,
		      (unsigned long long)s.max_batch);
	assert_int_equal(s.jobs, NWRITERS * NROWS);
	assert_int_equal(s.jobs_failed, 0);
	assert_int_equal(s.commit_failures, 0);
	assert_true(s.max_batch > 1);
	assert_true(s.commits < s.jobs);
	assert_true(s.reads >= NWRITERS * NROWS);
	db_close(d);
}

static void test_failing_job_rolled_back_alone(void **state)
{
	gate g;
	call hold, ok1, dup, fail, ok2;
	db_stats_t before, after;

	(void)state;
	db *d = open_all();
	db_stats(d, &before);

	/* Four writes queue behind the gate and commit as one batch. */
	row r_ok1 = {1, 1, 8, 0};
	row r_dup = {2, 1, 8, 0};
	row r_fail = {3, 1, 8, CARTA_EINVAL};
	row r_ok2 = {4, 1, 8, 0};
	gate_hold(&g, &hold, d);
	call_start(&ok1, d, insert_row, &r_ok1);
	call_start(&dup, d, insert_twice, &r_dup);
	call_start(&fail, d, insert_row, &r_fail);
	call_start(&ok2, d, insert_row, &r_ok2);
	wait_queued(d, 4);
	atomic_store(&g.release, true);
	pthread_join(hold.t, NULL);
	pthread_join(ok1.t, NULL);
	pthread_join(dup.t, NULL);
	pthread_join(fail.t, NULL);
	pthread_join(ok2.t, NULL);

	assert_int_equal(hold.rv, 0);
	assert_int_equal(ok1.rv, 0);
	assert_int_equal(dup.rv, CARTA_EEXIST);
	assert_int_equal(fail.rv, CARTA_EINVAL);
	assert_int_equal(ok2.rv, 0);
	assert_int_equal(row_count(d, 1, 1), 1);
	assert_int_equal(row_count(d, 2, 1), 0);
	assert_int_equal(row_count(d, 3, 1), 0);
	assert_int_equal(row_count(d, 4, 1), 1);
	assert_int_equal(row_count(d, 99, 0), 1);

	db_stats(d, &after);
	assert_int_equal(after.commits - before.commits, 2);
	assert_int_equal(after.jobs - before.jobs, 3);
	assert_int_equal(after.jobs_failed - before.jobs_failed, 2);
	assert_int_equal(after.max_batch, 4);
	db_close(d);
}

typedef struct {
	db *d;
	atomic_bool stop;
	int failures;
	int done;
} transferrer;

static void *transferrer_main(void *p)
{
	transferrer *x = p;

	for (int i = 0; !atomic_load(&x->stop); i++) {
		int64_t amount = i % 2 == 0 ? -7 : 7;
		if (db_write(x->d, transfer, &amount) != 0)
			x->failures++;
		x->done++;
	}
	return NULL;
}

typedef struct {
	db *d;
	int64_t a1, a2, a1_again;
	uint64_t jobs_before, jobs_after;
} snapshot;

static int64_t balance(sqlite3 *conn, int id)
{
	query q = {"SELECT balance FROM accounts WHERE id = ?", id, 0, -1};

	return query_int(conn, &q) == 0 ? q.value : -1;
}

/* Reads account 1, lets writes commit, then reads both. */
static int snapshot_job(sqlite3 *conn, void *arg)
{
	snapshot *s = arg;
	db_stats_t st;

	s->a1 = balance(conn, 1);
	db_stats(s->d, &st);
	s->jobs_before = st.jobs;
	uint64_t deadline = now_ms() + 5000;
	do {
		sleep_ms(1);
		db_stats(s->d, &st);
	} while (st.jobs < s->jobs_before + 3 && now_ms() < deadline);
	s->jobs_after = st.jobs;
	s->a2 = balance(conn, 2);
	s->a1_again = balance(conn, 1);
	return 0;
}

static void test_readers_see_one_snapshot(void **state)
{
	transferrer x = {0};
	pthread_t t;

	(void)state;
	db *d = open_all();
	x.d = d;
	assert_int_equal(pthread_create(&t, NULL, transferrer_main, &x), 0);
	for (int round = 0; round < 5; round++) {
		snapshot s = {.d = d};
		assert_int_equal(db_read(d, snapshot_job, &s), 0);
		assert_true(s.jobs_after >= s.jobs_before + 3);
		assert_true(s.a1 >= 0 && s.a2 >= 0);
		assert_int_equal(s.a1 + s.a2, 100);
		assert_int_equal(s.a1_again, s.a1);
	}
	atomic_store(&x.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(x.failures, 0);
	assert_true(x.done > 0);
	assert_int_equal(read_int(d, "SELECT sum(balance) FROM accounts", 0, 0),
			 100);
	db_close(d);
}

static int write_in_read(sqlite3 *conn, void *arg)
{
	(void)conn;
	row r = {5, 5, 8, 0};
	return db_write(arg, insert_row, &r);
}

static int read_in_write(sqlite3 *conn, void *arg)
{
	query q = {"SELECT 1", 0, 0, -1};

	(void)conn;
	return db_read(arg, query_int, &q);
}

static void test_errors_at_the_edge(void **state)
{
	sqlite3_stmt *st = NULL;
	row r = {6, 6, 8, 0};
	int64_t too_much = 1000;

	(void)state;
	db *d = open_all();
	assert_int_equal(db_prepare(NULL, "SELECT 1", &st), CARTA_ESTATE);
	assert_int_equal(db_read(d, write_in_read, d), CARTA_ESTATE);
	assert_int_equal(db_write(d, read_in_write, d), CARTA_ESTATE);
	/* Readers are query_only. */
	assert_int_equal(db_read(d, insert_row, &r), CARTA_EDB);
	assert_int_equal(db_write(d, insert_row, &r), 0);
	assert_int_equal(db_write(d, insert_row, &r), CARTA_EEXIST);
	/* A CHECK violation, and nothing of the job kept. */
	assert_int_equal(db_write(d, transfer, &too_much), CARTA_EINVAL);
	assert_int_equal(
	    read_int(d, "SELECT balance FROM accounts WHERE id = 1", 0, 0),
	    100);

	assert_int_equal(db_error(SQLITE_OK), 0);
	assert_int_equal(db_error(SQLITE_DONE), 0);
	assert_int_equal(db_error(SQLITE_CONSTRAINT_UNIQUE), CARTA_EEXIST);
	assert_int_equal(db_error(SQLITE_CONSTRAINT_FOREIGNKEY), CARTA_ENOENT);
	assert_int_equal(db_error(SQLITE_CONSTRAINT_NOTNULL), CARTA_EINVAL);
	assert_int_equal(db_error(SQLITE_NOMEM), CARTA_ENOMEM);
	assert_int_equal(db_error(SQLITE_IOERR_FSYNC), CARTA_EDB);
	db_close(d);
}

#define NQUEUED 5

static void test_close_finishes_queued_writes(void **state)
{
	gate g;
	call hold, c[NQUEUED];
	row r[NQUEUED];
	row late = {7, 0, 8, 0};
	query q = {"SELECT 1", 0, 0, -1};

	(void)state;
	db *d = open_all();
	gate_hold(&g, &hold, d);
	for (int i = 0; i < NQUEUED; i++) {
		r[i] = (row){8, i, 8, 0};
		call_start(&c[i], d, insert_row, &r[i]);
	}
	wait_queued(d, NQUEUED);

	/* From here on new work is refused at once; the queue stays. */
	db_shutdown(d);
	assert_int_equal(db_write(d, insert_row, &late), CARTA_ESTATE);
	assert_int_equal(db_read(d, query_int, &q), CARTA_ESTATE);
	assert_int_equal(stat_queued(d), NQUEUED);

	atomic_store(&g.release, true);
	db_close(d);
	pthread_join(hold.t, NULL);
	assert_int_equal(hold.rv, 0);
	for (int i = 0; i < NQUEUED; i++) {
		pthread_join(c[i].t, NULL);
		assert_int_equal(c[i].rv, 0);
	}

	d = open_all();
	assert_int_equal(
	    read_int(d, "SELECT count(*) FROM rows WHERE thread = 8", 0, 0),
	    NQUEUED);
	assert_int_equal(row_count(d, 7, 0), 0);
	db_close(d);
}

#define CK_WRITERS 4
#define CK_ROWS	   400
#define CK_BODY	   2048

typedef struct {
	atomic_bool stop;
	long long max_wal;
} sampler;

static void *sampler_main(void *p)
{
	sampler *s = p;

	while (!atomic_load(&s->stop)) {
		long long size = wal_size();
		if (size > s->max_wal)
			s->max_wal = size;
		sleep_ms(2);
	}
	return NULL;
}

static void test_checkpointer_bounds_the_wal(void **state)
{
	writer w[CK_WRITERS];
	pthread_t t[CK_WRITERS], ts;
	sampler s = {0};
	db_stats_t before, after;

	(void)state;
	db *d = open_all();
	db_tune(d, 64, 100);
	db_stats(d, &before);
	assert_int_equal(pthread_create(&ts, NULL, sampler_main, &s), 0);
	for (int i = 0; i < CK_WRITERS; i++) {
		w[i] = (writer){d, i, CK_ROWS, CK_BODY, false, 0, 0};
		assert_int_equal(
		    pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < CK_WRITERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	atomic_store(&s.stop, true);
	pthread_join(ts, NULL);
	db_stats(d, &after);

	/* Over 3 MB went through the WAL (18 MB of frames when measured):
	 * without checkpoints that start it over it would hold all of it. */
	print_message(
	    "checkpoints=%llu catch_ups=%llu restarts=%llu "
	    "max_wal=%lld bytes commits=%llu\n",
	    (unsigned long long)(after.checkpoints - before.checkpoints),
	    (unsigned long long)after.catch_ups,
	    (unsigned long long)after.wal_restarts, s.max_wal,
	    (unsigned long long)after.commits);
	assert_true(after.checkpoints - before.checkpoints >= 3);
	assert_true(s.max_wal > 0);
	assert_true(after.wal_restarts >= 2);
	assert_true(s.max_wal < 2 * 1024 * 1024);

	/* Once writes stop the WAL is emptied (the counters follow the file
	 * by a moment). */
	uint64_t deadline = now_ms() + 5000;
	do {
		sleep_ms(10);
		db_stats(d, &after);
	} while ((wal_size() != 0 || after.truncations == 0) &&
		 now_ms() < deadline);
	assert_int_equal(wal_size(), 0);
	assert_true(after.truncations >= 1);
	assert_int_equal(after.wal_pages, 0);
	assert_int_equal(read_int(d, "SELECT count(*) FROM rows", 0, 0),
			 CK_WRITERS * CK_ROWS);
	db_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_migrations_applied_once_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrations_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_concurrent_writers_group_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failing_job_rolled_back_alone,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readers_see_one_snapshot,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_at_the_edge, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_close_finishes_queued_writes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpointer_bounds_the_wal,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
