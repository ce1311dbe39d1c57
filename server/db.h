/* The SQLite engine under the store: WAL mode, reads in parallel on their
 * own read-only connections, writes through one writer thread that commits
 * the jobs waiting together (group commit, one fsync for many) and answers
 * each only once it is durable, and WAL checkpoints on a thread of their
 * own so that no commit pays for one. (After each checkpoint the writer,
 * between two batches, copies the few frames committed meanwhile, so that
 * the WAL starts over instead of growing: see catch_ups in db_stats_t.)
 *
 * db_read and db_write block the calling thread: call them from libuv
 * thread-pool workers or other threads, never from the event loop. All
 * functions return 0 or a negative CARTA_E* code unless said otherwise. */
#ifndef CARTAD_DB_H
#define CARTAD_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults for db_tune: a passive checkpoint once the WAL has grown by this
 * many pages since the last one, and at least this often while writes come
 * in; after a quiet interval the WAL is checkpointed and truncated. */
#define DB_CHECKPOINT_PAGES	  1000
#define DB_CHECKPOINT_INTERVAL_MS 2000

typedef struct db db;

/* A unit of work run on a connection the module owns. Returns 0, or a
 * negative CARTA_E* code (anything non-zero counts as a failure). It must
 * not begin, commit or roll back transactions, must finalize statements it
 * prepares itself (db_prepare's are reset for it), and must not call
 * db_read or db_write (they return CARTA_ESTATE). conn is valid only
 * during the call. */
typedef int (*db_fn)(sqlite3 *conn, void *arg);

/* Migration version N brings the schema from N-1 to N; an array of them
 * starts at version 1 and counts up by one. */
typedef struct {
	int version;
	const char *sql;
} db_migration;

typedef struct {
	uint64_t commits;	  /* transactions committed: one fsync each */
	uint64_t commit_failures; /* batches lost to a failed COMMIT */
	uint64_t jobs;		  /* writes committed */
	uint64_t jobs_failed;  /* writes whose fn failed (rolled back alone) */
	uint64_t max_batch;    /* most jobs in one transaction */
	uint64_t queued;       /* writes waiting for the writer right now */
	uint64_t reads;	       /* db_read calls that ran fn */
	uint64_t checkpoints;  /* checkpoints that completed (any mode) */
	uint64_t truncations;  /* of them, TRUNCATE checkpoints when idle */
	uint64_t catch_ups;    /* short ones by the writer between batches */
	uint64_t wal_restarts; /* times the WAL started over from its head */
	uint64_t checkpoint_us_max; /* longest checkpoint (off the writer) */
	uint64_t catch_up_us_max;   /* longest catch-up (between batches) */
	uint64_t wal_pages; /* frames in the WAL after the last commit */
} db_stats_t;

/* Opens path (creating it when create != 0; CARTA_ENOENT when it is missing
 * otherwise), sets WAL mode, foreign keys and a busy timeout, and applies
 * the pending migrations of migs on the writer connection, each in its own
 * transaction recording PRAGMA user_version (foreign keys are already
 * enforced then). A migration that fails is rolled back and its error
 * returned; a database newer than the last migration is refused (CARTA_EDB,
 * logged as schema_too_new); migs out of order give CARTA_EINVAL. Then
 * opens nreaders (1 to 64) read-only connections and starts the writer and
 * checkpointer threads. Blocks: call it before the loop runs. On success
 * *out is released with db_close; on error nothing is left open. */
int db_open(const char *path, int create, const db_migration *migs,
	    size_t nmigs, int nreaders, db **out);

/* Begins shutdown without blocking (safe on the event loop): writes already
 * queued still run and commit, db_read and db_write called from now on
 * return CARTA_ESTATE. Idempotent. */
void db_shutdown(db *d);

/* db_shutdown, then waits for queued writes to commit and for every
 * caller still inside db_read or db_write to return, stops the threads,
 * checkpoints, closes every connection and frees d. Blocks: call it once
 * the loop has stopped (or off the loop), when no thread will make a new
 * call into d. NULL is a no-op. */
void db_close(db *d);

/* Runs fn on a free read connection inside one read transaction (a single
 * consistent snapshot); waits while every reader is busy. Returns fn's
 * result, CARTA_EDB when the transaction could not be opened or closed, or
 * CARTA_ESTATE after shutdown began. Writes inside fn fail (query_only). */
int db_read(db *d, db_fn fn, void *arg);

/* Hands fn to the writer thread and waits until the transaction holding
 * it is durable (synchronous=FULL). The writer takes every job waiting and
 * runs each inside its own SAVEPOINT: a job returning non-zero is rolled
 * back alone and gets its own result while the others commit, all in one
 * COMMIT. Returns fn's result; CARTA_EDB for every job of a batch whose
 * transaction could not begin or commit (nothing of it was kept);
 * CARTA_ESTATE after shutdown began (fn did not run). */
int db_write(db *d, db_fn fn, void *arg);

/* The schema version in force after the migrations of db_open. */
int db_schema_version(db *d);

/* A snapshot of the counters; never waits on SQLite. */
void db_stats(db *d, db_stats_t *out);

/* Sets the checkpoint thresholds (pages > 0, interval_ms > 0); 0 keeps the
 * current value. Takes effect at once. */
void db_tune(db *d, int checkpoint_pages, int checkpoint_interval_ms);

/* A statement for sql (a string that lives as long as d, usually a
 * literal: it is looked up by address) prepared once per connection and
 * kept until db_close; only inside a db_fn, on its conn. Returned reset
 * with no bindings; do not finalize it. The same sql gives the same
 * statement, so one use must end before the next begins. CARTA_ESTATE
 * outside a db_fn, CARTA_ETOOBIG past 256 statements, else as db_error. */
int db_prepare(sqlite3 *conn, const char *sql, sqlite3_stmt **out);

/* Maps an SQLite result code (basic or extended) to 0 or a CARTA_E* code:
 * unique and primary-key violations give CARTA_EEXIST, foreign-key ones
 * CARTA_ENOENT, CHECK and NOT NULL ones CARTA_EINVAL, SQLITE_NOMEM
 * CARTA_ENOMEM, SQLITE_CANTOPEN CARTA_ENOENT, SQLITE_TOOBIG CARTA_ETOOBIG,
 * anything else CARTA_EDB. */
int db_error(int rc);

#endif
