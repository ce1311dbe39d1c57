/* The carta command-line tool: the command table, the argument parser and
 * the helpers the commands share. Commands are nouns and verbs ("admin
 * enrol"); options may come before or after them. */
#ifndef CARTA_CLI_H
#define CARTA_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "carta.h"

/* Exit statuses. */
#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1 /* the command ran and failed */
#define CLI_EXIT_USAGE 2 /* the command line is wrong */

#define CLI_MAX_POS  8
#define CLI_PATH_MAX 64
#define CLI_ERR_MAX  512

/* Every option the tool knows. Global ones are accepted by all commands;
 * the others only where a command lists them. */
enum cli_opt_id {
	O_HELP,
	O_VERSION,
	O_PROFILE,
	O_SERVER,
	O_SERVER_KEY,
	O_KEY,
	O_JSON,
	O_TIMEOUT,
	O_OUT,
	O_COUNT,
	O_PIPELINE,
	O_DEPARTMENT,
	O_ADMIN,
	O_PUBLIC_KEY,
	O__COUNT,
};

#define OPT(id) (UINT32_C(1) << (id))
#define CLI_GLOBAL_OPTS                                                        \
	(OPT(O_HELP) | OPT(O_PROFILE) | OPT(O_SERVER) | OPT(O_SERVER_KEY) |    \
	 OPT(O_KEY) | OPT(O_JSON) | OPT(O_TIMEOUT))

/* Everything a command line can say, filled by cli_parse. Strings point
 * into argv. */
typedef struct cli_args {
	/* global */
	bool help, version;
	const char *profile, *server, *server_key, *key;
	bool json;
	long timeout_ms; /* 0 when not given */
	/* per command */
	const char *out, *department, *public_key;
	long count;
	bool pipeline, admin;
	/* positional arguments of the command */
	const char *pos[CLI_MAX_POS];
	int npos;
	/* the deepest command named, and its words ("admin enrol") */
	const struct cli_cmd *cmd;
	char path[CLI_PATH_MAX];
	uint32_t seen; /* OPT() bits of the options given */
} cli_args;

typedef int (*cli_run_fn)(const cli_args *a);
/* Checks what the table cannot express; writes a reason and returns
 * non-zero when the line is wrong. */
typedef int (*cli_check_fn)(const cli_args *a, char *err, size_t errlen);

typedef struct cli_cmd {
	const char *name;
	const char *summary;  /* one line, for the parent's help */
	const char *synopsis; /* after the command words, for "Usage:" */
	const char *about;    /* a paragraph for the command's own help */
	uint32_t opts;	      /* OPT() bits of its own options */
	uint32_t required;    /* OPT() bits that must be given */
	int min_pos, max_pos;
	const char *pos_name; /* for "missing NAME" */
	cli_check_fn check;
	cli_run_fn run; /* NULL for a group of subcommands */
	const struct cli_cmd *subs;
	size_t nsubs;
} cli_cmd;

/* The root of the command tree (main.c). */
extern const cli_cmd cli_root;

/* Parses argv against root into a (zeroed first). Returns 0, or
 * CLI_EXIT_USAGE with a one-line reason in err ("admin enrol: missing
 * --department"). With --help or --version anywhere it returns 0 without
 * checking required arguments. */
int cli_parse(const cli_cmd *root, int argc, char **argv, cli_args *a,
	      char *err, size_t errlen);

/* Writes the help of cmd (reached as a->path) to out. */
void cli_help(const cli_cmd *cmd, const char *path, FILE *out);

/* Prints "carta: PATH: message" on stderr and returns CLI_EXIT_FAIL. */
int cli_fail(const cli_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Loads the options from the profile and overrides in a, applying
 * --timeout. Prints the reason and returns CLI_EXIT_FAIL on error. */
int cli_load_options(const cli_args *a, carta_options *opts);

/* Connects with opts (wiped by the caller). Prints the reason and
 * returns CLI_EXIT_FAIL on error, with *c NULL. */
int cli_connect(const cli_args *a, const carta_options *opts, carta_client **c);

/* Prints the library's error for c ("carta: PATH: message"), returns
 * CLI_EXIT_FAIL. */
int cli_fail_client(const cli_args *a, carta_client *c);

/* Output helpers. cli_json_str never fails on bad UTF-8: invalid bytes
 * become U+FFFD. cli_print_json prints v on one line and decrefs it. */
json_t *cli_json_str(const char *s);
int cli_print_json(const cli_args *a, json_t *v);

/* Copies s for a terminal: control characters and invalid UTF-8 become
 * '?'. Returns the number of columns it takes (one per code point). */
size_t cli_sanitize(const char *s, char *out, size_t cap);

/* "2024-05-01T12:00:00Z" (UTC) for Unix seconds t; "-" for 0. */
void cli_time(int64_t t, char *out, size_t cap);

/* The commands. */
int cmd_keygen(const cli_args *a);
int cmd_ping(const cli_args *a);
int cmd_admin_enrol(const cli_args *a);
int cmd_admin_revoke(const cli_args *a);
int cmd_admin_principals(const cli_args *a);
int check_admin_enrol(const cli_args *a, char *err, size_t errlen);

#endif
