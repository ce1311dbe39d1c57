/* One line per event on stderr:
 *
 *   2026-12-03T17:04:05.123Z INFO conn=7 event=accepted peer=127.0.0.1:5123
 *
 * The message part is key=value fields written by the caller's format.
 * Never pass keys, profiles, tokens, personal data or payloads. Events a
 * peer can trigger go through log_limited, which caps them per second in
 * one budget per class of event. */
#ifndef CARTA_LOG_H
#define CARTA_LOG_H

#include <stdint.h>

typedef enum {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
} log_level;

/* Lines below level are dropped. Not thread-safe: call before threads. */
void log_set_level(log_level level);

/* Parses "debug", "info", "warn" or "error". Returns 0 or CARTA_EINVAL. */
int log_level_parse(const char *text, log_level *out);

/* conn is the connection id, or 0 for none. Thread-safe. */
void log_event(log_level level, uint64_t conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The budgets of log_limited: a flood of one class (junk connections)
 * cannot crowd out the lines of another (refused keys). */
typedef enum {
	LOG_CLASS_CONN,	    /* connections accepted, closed, over a cap */
	LOG_CLASS_PROTOCOL, /* malformed input, failed or slow handshakes */
	LOG_CLASS_AUTH,	    /* refused keys and refused requests */
	LOG_CLASS_COUNT,
} log_class;

/* As log_event, but at most LOG_LIMIT_PER_SEC lines a second per class
 * across all callers; the first line of a class after a suppression says
 * how many of that class were lost. */
#define LOG_LIMIT_PER_SEC 20
void log_limited(log_class cls, log_level level, uint64_t conn, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

#endif
