/* The argument parser and help printer, driven by the command table and
 * the option table below. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* K_LIST: a string option that may be repeated (a cli_list). */
enum opt_kind { K_FLAG, K_STR, K_INT, K_LIST };

typedef struct {
	const char *name;  /* "--count" */
	const char *alias; /* "-h", or NULL */
	enum opt_kind kind;
	const char *metavar; /* for options with a value */
	const char *help;
	size_t offset; /* of the bool, const char *, long or cli_list */
	long min, max; /* for K_INT */
} opt_desc;

#define AT(member) offsetof(cli_args, member)

static const opt_desc opt_table[O__COUNT] = {
    [O_HELP] = {"--help", "-h", K_FLAG, NULL, "show this help and exit",
		AT(help), 0, 0},
    [O_VERSION] = {"--version", NULL, K_FLAG, NULL,
		   "print the version and exit", AT(version), 0, 0},
    [O_PROFILE] = {"--profile", NULL, K_STR, "FILE",
		   "profile to use (default: $CARTA_PROFILE, then "
		   "~/.config/carta/profile)",
		   AT(profile), 0, 0},
    [O_SERVER] = {"--server", NULL, K_STR, "HOST:PORT",
		  "server address, instead of the profile's", AT(server), 0, 0},
    [O_SERVER_KEY] = {"--server-key", NULL, K_STR, "KEY",
		      "server public key (base64), instead of the "
		      "profile's",
		      AT(server_key), 0, 0},
    [O_KEY] = {"--key", NULL, K_STR, "FILE",
	       "key file from 'carta keygen', instead of the profile's "
	       "secret key",
	       AT(key), 0, 0},
    [O_JSON] = {"--json", NULL, K_FLAG, NULL, "print JSON", AT(json), 0, 0},
    [O_TIMEOUT] = {"--timeout", NULL, K_INT, "MS",
		   "connect and per-request timeout in milliseconds",
		   AT(timeout_ms), 1, 3600000},
    [O_OUT] = {"--out", NULL, K_STR, "FILE",
	       "file to write (never overwritten)", AT(out), 0, 0},
    [O_COUNT] = {"--count", NULL, K_INT, "N", "number of pings (default 1)",
		 AT(count), 1, 100000},
    [O_PIPELINE] = {"--pipeline", NULL, K_FLAG, NULL,
		    "send the pings back to back, then read the answers",
		    AT(pipeline), 0, 0},
    [O_DEPARTMENT] = {"--department", NULL, K_STR, "DEPT",
		      "department of the principal", AT(department), 0, 0},
    [O_ADMIN] = {"--admin", NULL, K_FLAG, NULL,
		 "make the principal an admin (default: member)", AT(admin), 0,
		 0},
    [O_PUBLIC_KEY] = {"--public-key", NULL, K_STR, "KEY",
		      "enrol this public key (base64) made elsewhere",
		      AT(public_key), 0, 0},
    [O_GIVEN_NAME] = {"--given-name", NULL, K_STR, "NAME", "given name",
		      AT(given_name), 0, 0},
    [O_FAMILY_NAME] = {"--family-name", NULL, K_STR, "NAME", "family name",
		       AT(family_name), 0, 0},
    [O_COMPANY] = {"--company", NULL, K_STR, "NAME", "company", AT(company), 0,
		   0},
    [O_STATUS] = {"--status", NULL, K_STR, "STATUS",
		  "active, prospect, inactive or archived", AT(status), 0, 0},
    [O_HOME_BRANCH] = {"--home-branch", NULL, K_STR, "BRANCH",
		       "the customer's home branch", AT(home_branch), 0, 0},
    [O_EMAIL] = {"--email", NULL, K_LIST, "ADDR",
		 "an email address (repeatable; the first is primary)",
		 AT(emails), 0, 0},
    [O_PHONE] = {"--phone", NULL, K_LIST, "NUMBER",
		 "a phone number (repeatable; the first is primary)",
		 AT(phones), 0, 0},
    [O_BIRTH_DATE] = {"--birth-date", NULL, K_STR, "DATE",
		      "birth date, YYYY-MM-DD", AT(birth_date), 0, 0},
    [O_LANGUAGE] = {"--language", NULL, K_STR, "LANG",
		    "preferred language (BCP 47: es, ca, en-GB)", AT(language),
		    0, 0},
    [O_FROM_JSON] = {"--from-json", NULL, K_STR, "FILE",
		     "read the card from a JSON file ('-' for standard "
		     "input; see docs/CARD.md)",
		     AT(from_json), 0, 0},
    [O_FORCE] = {"--force", NULL, K_FLAG, NULL,
		 "add even when the card looks like a duplicate", AT(force), 0,
		 0},
    [O_REFUND] = {"--refund", NULL, K_FLAG, NULL,
		  "a cancellation or return: the amount and quantity are what "
		  "went back",
		  AT(refund), 0, 0},
    [O_REQUEST_KEY] = {"--request-key", NULL, K_STR, "KEY",
		       "a retry with the same key is applied once (default: "
		       "a random key)",
		       AT(request_key), 0, 0},
    [O_SECTION] = {"--section", NULL, K_STR, "SECTION",
		   "a card section: identity, contact, demographics, "
		   "purchases, preferences, interactions, notes or consent "
		   "(the command's text says which it takes)",
		   AT(section), 0, 0},
    [O_SET] = {"--set", NULL, K_LIST, "FIELD=VALUE",
	       "set a field (repeatable); 'phones.1=' removes an item",
	       AT(sets), 0, 0},
    [O_IF_VERSION] = {"--if-version", NULL, K_INT, "N",
		      "the section version you read (from 'customer show')",
		      AT(if_version), 0, LONG_MAX},
    [O_PRODUCT] = {"--product", NULL, K_STR, "TEXT", "product or service",
		   AT(product), 0, 0},
    [O_AMOUNT] = {"--amount", NULL, K_STR, "AMOUNT",
		  "total amount, e.g. 49.90 (a dot before the decimals)",
		  AT(amount), 0, 0},
    [O_CURRENCY] = {"--currency", NULL, K_STR, "CODE",
		    "ISO 4217 currency code (EUR, USD, JPY)", AT(currency), 0,
		    0},
    [O_DATE] = {"--date", NULL, K_STR, "DATE",
		"date, YYYY-MM-DD (default: today)", AT(date), 0, 0},
    [O_QUANTITY] = {"--quantity", NULL, K_INT, "N", "quantity (default 1)",
		    AT(quantity), 1, 1000000000},
    [O_CHANNEL] = {"--channel", NULL, K_STR, "CHANNEL",
		   "purchases: shop, online, phone...; interactions: phone, "
		   "email, visit, chat, letter, sms or other; consents: "
		   "email, phone, sms or post; search, exports and segments: "
		   "only cards consenting to email, phone, sms or post (or "
		   "PURPOSE.CHANNEL: marketing.email) and reachable on it",
		   AT(channel), 0, 0},
    [O_REMARKS] = {"--remarks", NULL, K_STR, "TEXT", "remarks", AT(remarks), 0,
		   0},
    [O_SUMMARY] = {"--summary", NULL, K_STR, "TEXT",
		   "what the interaction was about", AT(summary), 0, 0},
    [O_OUTCOME] = {"--outcome", NULL, K_STR, "TEXT", "how it ended",
		   AT(outcome), 0, 0},
    [O_SATISFACTION] = {"--satisfaction", NULL, K_INT, "N",
			"satisfaction score from 1 to 5", AT(satisfaction), 1,
			5},
    [O_AT] = {"--at", NULL, K_STR, "TIME",
	      "when (2026-12-01, 2026-12-01T10:00:00Z or -2h; default: "
	      "now)",
	      AT(at), 0, 0},
    [O_PURPOSE] = {"--purpose", NULL, K_STR, "PURPOSE",
		   "purpose, e.g. marketing, newsletter, profiling",
		   AT(purpose), 0, 0},
    [O_SOURCE] = {"--source", NULL, K_STR, "SOURCE",
		  "consents: how it was given (form, phone, shop, ...); "
		  "verification and edits: how the customer confirmed it "
		  "(phone, email, visit or form)",
		  AT(source), 0, 0},
    [O_TYPE] = {"--type", NULL, K_STR, "TYPE",
		"text, number, date, bool or choice", AT(type), 0, 0},
    [O_MAX_LENGTH] = {"--max-length", NULL, K_INT, "N",
		      "most characters of a text field (default 200)",
		      AT(max_length), 1, 1000000},
    [O_CHOICE] = {"--choice", NULL, K_LIST, "VALUE",
		  "an allowed value of a choice field (repeatable)",
		  AT(choices), 0, 0},
    [O_CUSTOMER] = {"--customer", NULL, K_STR, "REF",
		    "only this customer's card", AT(customer), 0, 0},
    [O_PRINCIPAL] = {"--principal", NULL, K_STR, "NAME",
		     "only what this principal did", AT(principal), 0, 0},
    [O_SINCE] = {"--since", NULL, K_STR, "TIME",
		 "only from TIME on (2026-12-01, 2026-12-01T10:00:00Z, -7d, "
		 "-24h)",
		 AT(since), 0, 0},
    [O_LIMIT] = {"--limit", NULL, K_INT, "N",
		 "items per page, 1 to 500, 50 by default; a page also "
		 "stops when it grows large, at about 40 KB of items or "
		 "56 KB of cards",
		 AT(limit), 1, 500},
    [O_CURSOR] = {"--cursor", NULL, K_STR, "CURSOR",
		  "start at this page (from a previous listing)", AT(cursor), 0,
		  0},
    [O_ALL] = {"--all", NULL, K_FLAG, NULL,
	       "fetch every page, not just the first", AT(all), 0, 0},
    /* import and export */
    [O_MAPPING] = {"--mapping", NULL, K_STR, "FILE",
		   "column mapping file (see docs/IMPORT.md)", AT(mapping), 0,
		   0},
    [O_ENCODING] = {"--encoding", NULL, K_STR, "NAME",
		    "the file's encoding when not UTF-8: windows-1252, "
		    "iso-8859-1, utf-16",
		    AT(encoding), 0, 0},
    [O_DELIMITER] = {"--delimiter", NULL, K_STR, "C",
		     "field delimiter: ',', ';' or 'tab' (default: detected)",
		     AT(delimiter), 0, 0},
    [O_DATE_FORMAT] = {"--date-format", NULL, K_STR, "FORMAT",
		       "how dates are written when not ISO: DD/MM/YYYY, "
		       "MM/DD/YYYY, ...",
		       AT(date_format), 0, 0},
    [O_UPSERT_BY] = {"--upsert-by", NULL, K_STR, "KEY",
		     "update the card this key finds: email, number or "
		     "external-id",
		     AT(upsert_by), 0, 0},
    [O_DRY_RUN] = {"--dry-run", NULL, K_FLAG, NULL,
		   "report what would happen without writing", AT(dry_run), 0,
		   0},
    [O_PROGRESS] = {"--progress", NULL, K_FLAG, NULL,
		    "show a progress bar even when not on a terminal",
		    AT(progress), 0, 0},
    [O_UPDATE_ONLY] = {"--update-only", NULL, K_FLAG, NULL,
		       "only update the cards the key finds; create none",
		       AT(update_only), 0, 0},
    [O_SKIP_BAD_PHONES] = {"--skip-bad-phones", NULL, K_FLAG, NULL,
			   "import a card without the phones that are not "
			   "valid numbers (each one reported), instead of "
			   "rejecting it",
			   AT(skip_bad_phones), 0, 0},
    /* queries */
    [O_WHERE] = {"--where", NULL, K_STR, "EXPR",
		 "only cards matching EXPR (see docs/QUERIES.md)", AT(where), 0,
		 0},
    [O_SEGMENT] = {"--segment", NULL, K_STR, "NAME",
		   "only the cards of this saved segment", AT(segment), 0, 0},
    [O_SORT] = {"--sort", NULL, K_STR, "FIELDS",
		"sort by FIELD[,-FIELD] ('-' for descending)", AT(sort), 0, 0},
    [O_COUNT_ONLY] = {"--count", NULL, K_FLAG, NULL,
		      "print only how many cards match", AT(count_only), 0, 0},
    [O_MIN_SCORE] = {"--min-score", NULL, K_STR, "S",
		     "only pairs scoring at least S (0 to 1)", AT(min_score), 0,
		     0},
    [O_OLDER_THAN] = {"--older-than", NULL, K_STR, "AGE",
		      "not verified for this long (365d, 12w)", AT(older_than),
		      0, 0},
    [O_REASON] = {"--reason", NULL, K_STR, "TEXT", "why (kept in the audit)",
		  AT(reason), 0, 0},
    [O_PREFER] = {"--prefer", NULL, K_LIST, "S.FIELD=other",
		  "keep the other card's value of SECTION.FIELD (repeatable)",
		  AT(prefers), 0, 0},
};

/* Writes "PATH: message" (or just the message at the root) into err. */
static int usage_err(const cli_args *a, char *err, size_t errlen,
		     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int usage_err(const cli_args *a, char *err, size_t errlen,
		     const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (a->path[0] != '\0')
		n = snprintf(err, errlen, "%s: ", a->path);
	if (n < 0 || (size_t)n >= errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return CLI_EXIT_USAGE;
}

static bool spelled(const char *word, const char *name, size_t namelen)
{
	return word != NULL && strlen(word) == namelen &&
	       memcmp(word, name, namelen) == 0;
}

/* Finds the option spelled name (namelen bytes); -1 when unknown. Two
 * commands may give one spelling different meanings (--count N pings,
 * --count counts search results): the one allowed here wins. */
static int find_opt(const char *name, size_t namelen, cli_optbits allowed)
{
	int found = -1;

	for (int i = 0; i < O__COUNT; i++) {
		const opt_desc *d = &opt_table[i];

		if (!spelled(d->name, name, namelen) &&
		    !spelled(d->alias, name, namelen))
			continue;
		if (allowed & OPT(i))
			return i;
		if (found < 0)
			found = i;
	}
	return found;
}

static cli_optbits allowed_opts(const cli_cmd *cmd, const cli_cmd *root)
{
	cli_optbits bits = CLI_GLOBAL_OPTS | cmd->opts;

	/* --version only makes sense on its own. */
	if (cmd != root)
		bits &= ~OPT(O_VERSION);
	return bits;
}

static int parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	if (s[0] == '\0' || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return -1;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Stores the value of option id; *i advances past a separate value. */
static int take_opt(cli_args *a, int id, const char *value, int argc,
		    char **argv, int *i, char *err, size_t errlen)
{
	const opt_desc *d = &opt_table[id];
	char *base = (char *)a;

	if ((a->seen & OPT(id)) && d->kind != K_LIST)
		return usage_err(a, err, errlen, "%s given twice", d->name);
	a->seen |= OPT(id);

	if (d->kind == K_FLAG) {
		if (value != NULL)
			return usage_err(a, err, errlen, "%s takes no value",
					 d->name);
		*(bool *)(base + d->offset) = true;
		return 0;
	}

	if (value == NULL) {
		if (*i + 1 >= argc)
			return usage_err(a, err, errlen,
					 "%s needs a value (%s)", d->name,
					 d->metavar);
		value = argv[++*i];
	}
	if (d->kind == K_STR) {
		if (value[0] == '\0')
			return usage_err(a, err, errlen, "%s: empty value",
					 d->name);
		*(const char **)(base + d->offset) = value;
		return 0;
	}
	if (d->kind == K_LIST) {
		cli_list *l = (cli_list *)(base + d->offset);

		if (value[0] == '\0')
			return usage_err(a, err, errlen, "%s: empty value",
					 d->name);
		if (l->n >= CLI_LIST_MAX)
			return usage_err(a, err, errlen,
					 "%s given more than %d times", d->name,
					 CLI_LIST_MAX);
		l->v[l->n++] = value;
		return 0;
	}

	long v;
	if (parse_long(value, &v) != 0 || v < d->min || v > d->max)
		return usage_err(a, err, errlen,
				 "%s must be a whole number from %ld to %ld, "
				 "not '%s'",
				 d->name, d->min, d->max, value);
	*(long *)(base + d->offset) = v;
	return 0;
}

/* "missing KEY": the word of pos_name for the first positional not
 * given. */
static int missing_pos(const cli_args *a, const cli_cmd *cmd, char *err,
		       size_t errlen)
{
	const char *w = cmd->pos_name != NULL ? cmd->pos_name : "ARGUMENT";

	for (int i = 0; i < a->npos; i++) {
		const char *sp = strchr(w, ' ');

		if (sp == NULL)
			break;
		w = sp + 1;
	}
	return usage_err(a, err, errlen, "missing %.*s", (int)strcspn(w, " "),
			 w);
}

static const cli_cmd *find_sub(const cli_cmd *cmd, const char *name)
{
	for (size_t i = 0; i < cmd->nsubs; i++)
		if (strcmp(cmd->subs[i].name, name) == 0)
			return &cmd->subs[i];
	return NULL;
}

static void path_append(cli_args *a, const char *word)
{
	size_t n = strlen(a->path);

	snprintf(a->path + n, sizeof a->path - n, "%s%s", n > 0 ? " " : "",
		 word);
}

int cli_parse(const cli_cmd *root, int argc, char **argv, cli_args *a,
	      char *err, size_t errlen)
{
	const cli_cmd *cmd = root;
	bool only_pos = false;
	int rv;

	memset(a, 0, sizeof *a);
	err[0] = '\0';
	a->cmd = root;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
			if (strcmp(arg, "--") == 0) {
				only_pos = true;
				continue;
			}
			const char *eq =
			    arg[1] == '-' ? strchr(arg, '=') : NULL;
			size_t nlen =
			    eq != NULL ? (size_t)(eq - arg) : strlen(arg);
			int id = find_opt(arg, nlen, allowed_opts(cmd, root));

			if (id < 0 || !(allowed_opts(cmd, root) & OPT(id)))
				return usage_err(a, err, errlen,
						 "unknown option '%.*s'",
						 (int)nlen, arg);
			rv = take_opt(a, id, eq != NULL ? eq + 1 : NULL, argc,
				      argv, &i, err, errlen);
			if (rv != 0)
				return rv;
			continue;
		}

		/* A word: a subcommand while we are in a group. */
		if (cmd->nsubs > 0) {
			const cli_cmd *sub = find_sub(cmd, arg);

			if (sub == NULL)
				return usage_err(a, err, errlen,
						 "unknown command '%s' (try "
						 "'carta%s%s --help')",
						 arg, a->path[0] ? " " : "",
						 a->path);
			cmd = sub;
			a->cmd = cmd;
			path_append(a, cmd->name);
			continue;
		}
		if (a->npos >= cmd->max_pos || a->npos >= CLI_MAX_POS)
			return usage_err(a, err, errlen,
					 "unexpected argument '%s'", arg);
		a->pos[a->npos++] = arg;
	}

	if (a->help || a->version)
		return 0;
	if (cmd->run == NULL)
		return usage_err(a, err, errlen,
				 "missing command (try 'carta%s%s --help')",
				 a->path[0] ? " " : "", a->path);
	if (a->npos < cmd->min_pos)
		return missing_pos(a, cmd, err, errlen);
	for (int id = 0; id < O__COUNT; id++)
		if ((cmd->required & OPT(id)) && !(a->seen & OPT(id)))
			return usage_err(a, err, errlen, "missing %s",
					 opt_table[id].name);
	if (cmd->check != NULL && cmd->check(a, err, errlen) != 0) {
		char reason[CLI_ERR_MAX];

		snprintf(reason, sizeof reason, "%s", err);
		return usage_err(a, err, errlen, "%s", reason);
	}
	return 0;
}

/* ---- Help ----------------------------------------------------------- */

/* The last space in text[0..width] outside brackets, or 0. */
static int break_at(const char *text, int width)
{
	int depth = 0, cut = 0;

	for (int i = 0; i <= width && text[i] != '\0'; i++) {
		if (text[i] == '(' || text[i] == '[')
			depth++;
		else if ((text[i] == ')' || text[i] == ']') && depth > 0)
			depth--;
		else if (text[i] == ' ' && depth == 0)
			cut = i;
	}
	return cut;
}

/* Prints text, already at column col, wrapped at 80 columns onto lines
 * indented by indent; a bracketed group is kept on one line. */
static void wrap(const char *text, int col, int indent, FILE *out)
{
	const int width = 80 - (col > indent ? col : indent);

	while ((int)strlen(text) > width) {
		int cut = break_at(text, width);

		if (cut == 0)
			break;
		fprintf(out, "%.*s\n%*s", cut, text, indent, "");
		text += cut + 1;
	}
	fprintf(out, "%s\n", text);
}

/* "  LEFT                   help", the help wrapped. */
static void help_line(const char *left, const char *help, FILE *out)
{
	fprintf(out, "  %-22s ", left);
	wrap(help, 25, 25, out);
}

static void help_opts(cli_optbits bits, FILE *out)
{
	for (int id = 0; id < O__COUNT; id++) {
		const opt_desc *d = &opt_table[id];
		char left[48];

		if (!(bits & OPT(id)))
			continue;
		if (d->alias != NULL)
			snprintf(left, sizeof left, "%s, %s", d->alias,
				 d->name);
		else if (d->metavar != NULL)
			snprintf(left, sizeof left, "%s %s", d->name,
				 d->metavar);
		else
			snprintf(left, sizeof left, "%s", d->name);
		help_line(left, d->help, out);
	}
}

void cli_help(const cli_cmd *cmd, const char *path, FILE *out)
{
	const char *sep = path[0] != '\0' ? " " : "";

	const bool args = cmd->synopsis != NULL && cmd->synopsis[0] != '\0';
	int col =
	    fprintf(out, "Usage: carta%s%s%s", sep, path, args ? " " : "");
	if (args)
		wrap(cmd->synopsis, col, col, out);
	else
		fputc('\n', out);
	if (cmd->about != NULL) {
		fputc('\n', out);
		wrap(cmd->about, 0, 0, out);
	}

	if (cmd->nsubs > 0) {
		fprintf(out, "\nCommands:\n");
		for (size_t i = 0; i < cmd->nsubs; i++)
			help_line(cmd->subs[i].name, cmd->subs[i].summary, out);
	}
	cli_optbits own = cmd->opts & ~CLI_GLOBAL_OPTS;
	if (own != 0) {
		fprintf(out, "\nOptions:\n");
		help_opts(own, out);
	}
	fprintf(out, "\nGlobal options (before or after the command):\n");
	help_opts(CLI_GLOBAL_OPTS, out);
	if (cmd->nsubs > 0)
		fprintf(out,
			"\nRun 'carta%s%s COMMAND --help' for the options of a "
			"command.\n",
			sep, path);
}
