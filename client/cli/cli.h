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
/* A set of options, one bit per cli_opt_id. */
__extension__ typedef unsigned __int128 cli_optbits;

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
	/* the card commands */
	O_GIVEN_NAME,
	O_FAMILY_NAME,
	O_COMPANY,
	O_STATUS,
	O_HOME_BRANCH,
	O_EMAIL,
	O_PHONE,
	O_BIRTH_DATE,
	O_LANGUAGE,
	O_FROM_JSON,
	O_SECTION,
	O_SET,
	O_IF_VERSION,
	O_PRODUCT,
	O_AMOUNT,
	O_CURRENCY,
	O_DATE,
	O_QUANTITY,
	O_CHANNEL,
	O_REMARKS,
	O_SUMMARY,
	O_OUTCOME,
	O_SATISFACTION,
	O_AT,
	O_PURPOSE,
	O_SOURCE,
	O_TYPE,
	O_MAX_LENGTH,
	O_CHOICE,
	O_CUSTOMER,
	O_PRINCIPAL,
	O_SINCE,
	O_LIMIT,
	O_CURSOR,
	O_ALL,
	O_REQUEST_KEY,
	O_FORCE,
	/* import and export */
	O_MAPPING,
	O_ENCODING,
	O_DELIMITER,
	O_DATE_FORMAT,
	O_UPSERT_BY,
	O_DRY_RUN,
	O_PROGRESS,
	O_UPDATE_ONLY,
	O_SKIP_BAD_PHONES,
	/* queries, duplicates, verification, erasure */
	O_WHERE,
	O_SEGMENT,
	O_SORT,
	O_COUNT_ONLY,
	O_MIN_SCORE,
	O_OLDER_THAN,
	O_REASON,
	O_PREFER,
	O_REFUND,
	O__COUNT,
};
_Static_assert(O__COUNT <= 128, "option bits fit in a cli_optbits");

#define OPT(id) ((cli_optbits)1 << (id))
#define CLI_GLOBAL_OPTS                                                        \
	(OPT(O_HELP) | OPT(O_PROFILE) | OPT(O_SERVER) | OPT(O_SERVER_KEY) |    \
	 OPT(O_KEY) | OPT(O_JSON) | OPT(O_TIMEOUT))
#define CLI_PAGE_OPTS (OPT(O_LIMIT) | OPT(O_CURSOR) | OPT(O_ALL))

/* The values of an option that may be given more than once (--email). */
#define CLI_LIST_MAX 32
typedef struct {
	const char *v[CLI_LIST_MAX];
	int n;
} cli_list;

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
	/* the card commands */
	const char *given_name, *family_name, *company, *status, *home_branch;
	const char *birth_date, *language, *from_json, *request_key;
	const char *section, *product, *amount, *currency, *date, *channel;
	const char *remarks, *summary, *outcome, *at, *purpose, *source;
	const char *type, *customer, *principal, *since, *cursor;
	cli_list emails, phones, sets, choices;
	long if_version, quantity, satisfaction, max_length, limit;
	bool force, all, refund;
	/* import, export and queries */
	const char *mapping, *encoding, *delimiter, *date_format, *upsert_by;
	const char *where, *segment, *sort, *min_score, *older_than, *reason;
	cli_list prefers;
	bool dry_run, progress, count_only, update_only, skip_bad_phones;
	/* positional arguments of the command */
	const char *pos[CLI_MAX_POS];
	int npos;
	/* the deepest command named, and its words ("admin enrol") */
	const struct cli_cmd *cmd;
	char path[CLI_PATH_MAX];
	cli_optbits seen; /* OPT() bits of the options given */
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
	cli_optbits opts;     /* OPT() bits of its own options */
	cli_optbits required; /* OPT() bits that must be given */
	int min_pos, max_pos;
	const char *pos_name; /* "REF KEY": word i names positional i */
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
 * '?'. Returns the number of columns it takes on a terminal (two for a
 * wide CJK character, none for a combining mark). */
size_t cli_sanitize(const char *s, char *out, size_t cap);

/* "2024-05-01T12:00:00Z" (UTC) for Unix seconds t; "-" for 0. */
void cli_time(int64_t t, char *out, size_t cap);

/* ---- Times ---------------------------------------------------------- */

/* Parses a TIME argument: "2026-12-01" (midnight UTC),
 * "2026-12-01T10:00:00Z" (seconds optional; 'Z' or an offset like
 * "+01:00"), or a time before now: "-90s", "-30m", "-24h", "-7d", "-2w".
 * Dates must exist in the calendar. Returns 0 with Unix seconds in *out,
 * or -1. */
int cli_time_parse(const char *s, int64_t now, int64_t *out);

/* Whether s is a real calendar date written YYYY-MM-DD. */
bool cli_date_valid(const char *s);

/* ---- Output ---------------------------------------------------------- */

/* s made safe for a terminal (see cli_sanitize), for printf arguments.
 * The text lives in one of 8 rotating buffers: valid until 8 more calls.
 * NULL gives "". */
const char *cli_safe(const char *s);

/* A table printed as rows arrive: the column widths are fixed by the rows
 * of the first flush (later, longer cells push the row to the right).
 * Cells are copied and sanitized; an empty or NULL cell shows as "-". */
#define CLI_TABLE_MAXCOL 8 /* of the tables of items (reply.c) */
typedef struct {
	const char *const *titles;
	int ncol, indent;
	size_t *width; /* ncol column widths */
	char **cell;   /* nrows * ncol, row-major */
	size_t *cellw; /* their widths in columns */
	size_t nrows, cap;
	bool started; /* the header is out */
} cli_table;

/* Starts a table of ncol columns (titles borrowed until cli_table_free,
 * already safe for a terminal).
 * Returns 0 or -1 (out of memory; t is still safe to free). */
int cli_table_init(cli_table *t, const char *const *titles, int ncol,
		   int indent);
/* Adds a row of t->ncol cells. Returns 0 or -1 (out of memory). */
int cli_table_add(cli_table *t, const char *const *cells);
/* Prints the header (the first time) and the rows added since. */
void cli_table_flush(cli_table *t);
/* Frees the rows not flushed and the widths. */
void cli_table_free(cli_table *t);

/* ---- Requests -------------------------------------------------------- */

/* Returned by a response handler to stop reading without an error. */
#define CLI_STOP 100

/* Called for each OK response of a request (borrowed for the call).
 * Returns 0 to go on, CLI_STOP, or an exit status already printed. */
typedef int (*cli_reply_fn)(const cli_args *a, void *ud,
			    const Carta__V1__Response *r);
/* Called for a refusal; prints it and returns an exit status. */
typedef int (*cli_refused_fn)(const cli_args *a, void *ud,
			      const Carta__V1__Status *st);

typedef struct {
	cli_reply_fn each;	/* NULL: responses are dropped */
	cli_refused_fn refused; /* NULL: cli_fail_status */
	void *ud;
	/* The request may be sent again when the connection is lost before
	 * any answer was used: reads and requests with a request key. */
	bool retry;
} cli_handler;

/* Prints a server's refusal, "carta: PATH: FIELD: message" (without
 * "FIELD: " when it names none). Returns CLI_EXIT_FAIL. */
int cli_fail_status(const cli_args *a, const Carta__V1__Status *st);

/* Prints the cards a card looks like (Status.duplicates): on stderr as
 * "looks like C-... NAME (score S): reasons", or with --json one object
 * per line. */
void cli_print_duplicates(const cli_args *a, const Carta__V1__Status *st);

/* Loads the options and connects (cli_load_options, cli_connect). Returns
 * 0 or an exit status already printed, with *c NULL. */
int cli_open(const cli_args *a, carta_client **c);

/* Sends req on *c and hands its responses to h until the last. With
 * h->retry, a lost connection is reopened (*c replaced) and req sent once
 * more. Returns 0, CLI_STOP (from h->each) or an exit status already
 * printed. */
int cli_call(const cli_args *a, carta_client **c, Carta__V1__Request *req,
	     const cli_handler *h);

/* cli_open, cli_call, close. */
int cli_request(const cli_args *a, Carta__V1__Request *req,
		const cli_handler *h);

/* Called for each page of a listing; sets *next to the page's next cursor
 * (borrowed from r, "" or NULL at the end). Returns as a cli_reply_fn. */
typedef int (*cli_page_fn)(const cli_args *a, void *ud,
			   const Carta__V1__Response *r, const char **next);

/* Lists with req, whose cursor field is *cursor: from --cursor (or the
 * start), one page, or with --all every page, following the cursors.
 * When pages remain it says how to go on: a {"next_cursor": ...} line
 * with --json. Returns an exit status. */
int cli_pages(const cli_args *a, Carta__V1__Request *req, char **cursor,
	      cli_page_fn fn, void *ud);

/* A fresh random request key: 32 hex digits and a NUL. */
#define CLI_REQUEST_KEY_SIZE 33
void cli_request_key(char out[CLI_REQUEST_KEY_SIZE]);

/* ---- Showing replies (reply.c) ------------------------------------ */

/* Shows what responses carry: a card, one item, or lists of items (a
 * table, or one JSON object per line with --json). Keeps the table of a
 * listing across pages. */
typedef struct {
	cli_table table;
	const ProtobufCMessageDescriptor *kind; /* of the table's rows */
	const char *done; /* shown for a response without a body */
} cli_printer;

/* cli_reply_fn and cli_page_fn for a cli_printer (ud). */
int cli_printer_reply(const cli_args *a, void *ud,
		      const Carta__V1__Response *r);
int cli_printer_page(const cli_args *a, void *ud, const Carta__V1__Response *r,
		     const char **next);
/* Prints what is left and frees the printer's table. */
void cli_printer_end(cli_printer *p);

/* An item as JSON; an audit entry's old and new values (JSON texts)
 * embedded as JSON. NULL when out of memory. */
json_t *cli_item_json(const ProtobufCMessage *m);

/* Prints n messages of one kind (Purchase, Note, ...) as a table indented
 * by indent, as the printers do. Returns 0 or an exit status. */
int cli_print_msgs(const cli_args *a, const ProtobufCMessage *const *items,
		   size_t n, int indent);

/* Sends req and shows its answer with a cli_printer; done is shown for an
 * answer without a body. Returns an exit status. */
int cli_run(const cli_args *a, Carta__V1__Request *req, bool retry,
	    const char *done);

/* Lists with req (see cli_pages) and shows the items. */
int cli_run_pages(const cli_args *a, Carta__V1__Request *req, char **cursor);

/* Shows a card (cmd_card.c). */
int cli_print_card(const cli_args *a, const Carta__V1__Card *card);

/* ---- Argument checks shared by the commands ------------------------ */

/* Each writes a reason into err and returns -1 when the value is bad. */
int cli_check_time(const char *opt, const char *s, char *err, size_t errlen);
int cli_check_section(const char *what, const char *s, char *err,
		      size_t errlen);

/* The commands. */
/* import and export (cmd_import.c, cmd_export.c) */
int check_import(const cli_args *a, char *err, size_t errlen);
int cmd_import_csv(const cli_args *a);
int cmd_import_purchases(const cli_args *a);
int cmd_import_vcard(const cli_args *a);
int cmd_import_json(const cli_args *a);
int check_export(const cli_args *a, char *err, size_t errlen);
int cmd_export_csv(const cli_args *a);
int cmd_export_vcard(const cli_args *a);
int cmd_export_json(const cli_args *a);
int cmd_customer_export(const cli_args *a);
/* keeping cards current (cmd_dedup.c, cmd_merge.c, cmd_verify.c,
 * cmd_erase.c) */
int cmd_dedup_scan(const cli_args *a);
int cmd_merge(const cli_args *a);
int cmd_unmerge(const cli_args *a);
int cmd_verify_due(const cli_args *a);
int cmd_verify_confirm(const cli_args *a);
int cmd_admin_stats(const cli_args *a);
int cmd_customer_erase(const cli_args *a);
/* search and segments (cmd_search.c) */
int cmd_search(const cli_args *a);
int cmd_segment_save(const cli_args *a);
int cmd_segment_list(const cli_args *a);
int cmd_segment_show(const cli_args *a);
int cmd_segment_run(const cli_args *a);
int cmd_segment_delete(const cli_args *a);
int cmd_keygen(const cli_args *a);
int cmd_ping(const cli_args *a);
int cmd_admin_enrol(const cli_args *a);
int cmd_admin_revoke(const cli_args *a);
int cmd_admin_principals(const cli_args *a);
int check_admin_enrol(const cli_args *a, char *err, size_t errlen);

int cmd_customer_add(const cli_args *a);
int cmd_customer_show(const cli_args *a);
int cmd_customer_edit(const cli_args *a);
int cmd_customer_archive(const cli_args *a);
int check_customer_add(const cli_args *a, char *err, size_t errlen);
int check_customer_edit(const cli_args *a, char *err, size_t errlen);

int cmd_purchase_add(const cli_args *a);
int cmd_purchase_list(const cli_args *a);
int cmd_interaction_add(const cli_args *a);
int cmd_interaction_list(const cli_args *a);
int cmd_note_add(const cli_args *a);
int cmd_note_list(const cli_args *a);
int cmd_consent_set(const cli_args *a);
int cmd_consent_list(const cli_args *a);
int cmd_pref_set(const cli_args *a);
int cmd_pref_unset(const cli_args *a);
int cmd_field_define(const cli_args *a);
int cmd_field_list(const cli_args *a);
int cmd_field_set(const cli_args *a);
int check_purchase_add(const cli_args *a, char *err, size_t errlen);
int check_interaction_add(const cli_args *a, char *err, size_t errlen);
int check_consent_set(const cli_args *a, char *err, size_t errlen);
int check_field_define(const cli_args *a, char *err, size_t errlen);

int cmd_department_add(const cli_args *a);
int cmd_department_list(const cli_args *a);
int cmd_policy_set(const cli_args *a);
int cmd_policy_show(const cli_args *a);
int cmd_audit(const cli_args *a);
int check_policy_set(const cli_args *a, char *err, size_t errlen);
int check_audit(const cli_args *a, char *err, size_t errlen);

#endif
