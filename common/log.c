#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "carta_error.h"

static log_level min_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Rate limit state for log_limited, one per class, guarded by log_lock. */
static struct {
	time_t second;
	unsigned count;
	unsigned long dropped;
} limits[LOG_CLASS_COUNT];

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(log_level level)
{
	min_level = level;
}

int log_level_parse(const char *text, log_level *out)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	for (int i = 0; i < 4; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = (log_level)i;
			return 0;
		}
	}
	return CARTA_EINVAL;
}

static void log_write(log_level level, uint64_t conn, unsigned long dropped,
		      const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void log_write(log_level level, uint64_t conn, unsigned long dropped,
		      const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], msg[768];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);

	/* One fprintf per line so that lines from threads never interleave. */
	if (dropped > 0)
		fprintf(stderr, "%s.%03ldZ %s conn=%llu %s suppressed=%lu\n",
			stamp, ts.tv_nsec / 1000000, level_names[level],
			(unsigned long long)conn, msg, dropped);
	else
		fprintf(stderr, "%s.%03ldZ %s conn=%llu %s\n", stamp,
			ts.tv_nsec / 1000000, level_names[level],
			(unsigned long long)conn, msg);
}

void log_event(log_level level, uint64_t conn, const char *fmt, ...)
{
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	log_write(level, conn, 0, fmt, ap);
	va_end(ap);
}

void log_limited(log_class cls, log_level level, uint64_t conn, const char *fmt,
		 ...)
{
	va_list ap;
	unsigned long dropped = 0;
	time_t now = time(NULL);

	if (level < min_level || cls >= LOG_CLASS_COUNT)
		return;

	pthread_mutex_lock(&log_lock);
	if (now != limits[cls].second) {
		limits[cls].second = now;
		limits[cls].count = 0;
	}
	if (limits[cls].count >= LOG_LIMIT_PER_SEC) {
		limits[cls].dropped++;
		pthread_mutex_unlock(&log_lock);
		return;
	}
	limits[cls].count++;
	dropped = limits[cls].dropped;
	limits[cls].dropped = 0;
	pthread_mutex_unlock(&log_lock);

	va_start(ap, fmt);
	log_write(level, conn, dropped, fmt, ap);
	va_end(ap);
}
