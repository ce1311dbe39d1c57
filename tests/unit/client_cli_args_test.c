/* The carta CLI's argument parser against the real command table: options
 * before and after the command words, help at every level, and the
 * one-line reasons for usage errors. Also the pieces of libcarta that need
 * no server: profile resolution order and server address checks.
 *
 * tests/CMakeLists.txt links every test with libcarta but not with the
 * CLI, so the CLI's sources (all but main.c) are compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

#define KEY_B64 "rzKzUWS6AJoiz4lQNhkwgp4D8Xpyi1s7h8L5RjGwpls="

static cli_args args;
static char err[CLI_ERR_MAX];

/* Parses a NULL-terminated list of words after "carta". */
static int parse(const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"carta";
	va_start(ap, first);
	for (const char *w = first; w != NULL; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc] = NULL;
	return cli_parse(&cli_root, argc, argv, &args, err, sizeof err);
}

static void test_globals_before_and_after(void **state)
{
	(void)state;
	assert_int_equal(parse("--json", "--profile", "p.profile", "admin",
			       "--server", "h:1", "enrol", "bob",
			       "--department", "sales", "--out", "bob.profile",
			       "--timeout=2500", "--key", "k.key", "--admin",
			       NULL),
			 0);
	assert_string_equal(args.path, "admin enrol");
	assert_ptr_equal(args.cmd->run, cmd_admin_enrol);
	assert_true(args.json);
	assert_true(args.admin);
	assert_string_equal(args.profile, "p.profile");
	assert_string_equal(args.server, "h:1");
	assert_string_equal(args.key, "k.key");
	assert_int_equal(args.timeout_ms, 2500);
	assert_string_equal(args.department, "sales");
	assert_string_equal(args.out, "bob.profile");
	assert_null(args.public_key);
	assert_int_equal(args.npos, 1);
	assert_string_equal(args.pos[0], "bob");
}

static void test_ping_options(void **state)
{
	(void)state;
	assert_int_equal(parse("ping", "--count", "200", "--pipeline",
			       "--server-key", KEY_B64, NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_ping);
	assert_int_equal(args.count, 200);
	assert_true(args.pipeline);
	assert_string_equal(args.server_key, KEY_B64);

	assert_int_equal(parse("ping", NULL), 0);
	assert_int_equal(args.count, 0);
	assert_false(args.json);
}

static void test_help_at_every_level(void **state)
{
	(void)state;
	assert_int_equal(parse("--help", NULL), 0);
	assert_true(args.help);
	assert_ptr_equal(args.cmd, &cli_root);

	assert_int_equal(parse("admin", "--help", NULL), 0);
	assert_true(args.help);
	assert_string_equal(args.path, "admin");
	assert_null(args.cmd->run);

	/* Required arguments are not checked when help is asked for. */
	assert_int_equal(parse("admin", "enrol", "-h", NULL), 0);
	assert_true(args.help);
	assert_ptr_equal(args.cmd->run, cmd_admin_enrol);

	assert_int_equal(parse("--version", NULL), 0);
	assert_true(args.version);
}

/* Columns a line of UTF-8 text takes: one per code point. */
static size_t columns(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Checks one command's help, then its subcommands'. */
static void check_help(const cli_cmd *cmd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	cli_help(cmd, cmd->name, f);
	fclose(f);
	assert_non_null(strstr(text, "Usage: carta"));
	assert_non_null(strstr(text, "--profile FILE"));
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		if (columns(line) > 80)
			print_message("too wide: %s\n", line);
		assert_true(columns(line) <= 80);
	}
	free(text);
	for (size_t i = 0; i < cmd->nsubs; i++)
		check_help(&cmd->subs[i]);
}

static void test_help_text_fits_80_columns(void **state)
{
	(void)state;
	check_help(&cli_root);
}

static void test_usage_errors(void **state)
{
	static const struct {
		const char *words[12];
		const char *reason;
	} cases[] = {
	    {{NULL}, "missing command (try 'carta --help')"},
	    {{"frobnicate"},
	     "unknown command 'frobnicate' (try 'carta --help')"},
	    {{"admin"}, "admin: missing command (try 'carta admin --help')"},
	    {{"admin", "bogus"},
	     "admin: unknown command 'bogus' (try 'carta admin --help')"},
	    {{"admin", "enrol"}, "admin enrol: missing NAME"},
	    {{"admin", "enrol", "bob"}, "admin enrol: missing --department"},
	    {{"admin", "enrol", "bob", "--department", "d"},
	     "admin enrol: missing --out FILE or --public-key KEY"},
	    {{"admin", "enrol", "bob", "--department", "d", "--out", "f",
	      "--public-key", KEY_B64},
	     "admin enrol: give --out or --public-key, not both"},
	    {{"admin", "enrol", "bob", "--department", "d", "--public-key",
	      "short"},
	     "admin enrol: --public-key: not a base64 public key (44 "
	     "characters)"},
	    {{"admin", "enrol", "", "--department", "d", "--out", "f"},
	     "admin enrol: NAME must not be empty"},
	    {{"admin", "revoke"}, "admin revoke: missing NAME"},
	    {{"admin", "revoke", "a", "b"},
	     "admin revoke: unexpected argument 'b'"},
	    {{"admin", "principals", "--department", "d"},
	     "admin principals: unknown option '--department'"},
	    {{"--count", "3", "ping"}, "unknown option '--count'"},
	    {{"ping", "--version"}, "ping: unknown option '--version'"},
	    {{"ping", "--count", "0"},
	     "ping: --count must be a whole number from 1 to 100000, not '0'"},
	    {{"ping", "--count", "12x"},
	     "ping: --count must be a whole number from 1 to 100000, not "
	     "'12x'"},
	    {{"ping", "--count"}, "ping: --count needs a value (N)"},
	    {{"ping", "--json=yes"}, "ping: --json takes no value"},
	    {{"ping", "--timeout", "-5"},
	     "ping: --timeout must be a whole number from 1 to 3600000, not "
	     "'-5'"},
	    {{"ping", "--server", ""}, "ping: --server: empty value"},
	    {{"ping", "--json", "--json"}, "ping: --json given twice"},
	    {{"keygen"}, "keygen: missing --out"},
	    {{"keygen", "--out", "k", "extra"},
	     "keygen: unexpected argument 'extra'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[14];
		int argc = 0;

		argv[argc++] = (char *)"carta";
		for (int w = 0; cases[i].words[w] != NULL; w++)
			argv[argc++] = (char *)cases[i].words[w];
		argv[argc] = NULL;
		assert_int_equal(
		    cli_parse(&cli_root, argc, argv, &args, err, sizeof err),
		    CLI_EXIT_USAGE);
		assert_string_equal(err, cases[i].reason);
	}
}

static void test_customer_add_options(void **state)
{
	(void)state;
	assert_int_equal(parse("customer", "add", "--given-name",
			       "Mar\xc3\xad"
			       "a",
			       "--family-name",
			       "Garc\xc3\xad"
			       "a",
			       "--email", "m@example.com", "--phone",
			       "600 111 222", "--email", "m2@example.com",
			       "--birth-date", "1980-05-01", "--status",
			       "prospect", "--request-key", "k1", "--force",
			       NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_customer_add);
	assert_string_equal(args.given_name, "Mar\xc3\xad"
					     "a");
	assert_int_equal(args.emails.n, 2);
	assert_string_equal(args.emails.v[0], "m@example.com");
	assert_string_equal(args.emails.v[1], "m2@example.com");
	assert_int_equal(args.phones.n, 1);
	assert_string_equal(args.phones.v[0], "600 111 222");
	assert_string_equal(args.birth_date, "1980-05-01");
	assert_string_equal(args.status, "prospect");
	assert_string_equal(args.request_key, "k1");
	assert_true(args.force);

	assert_int_equal(parse("customer", "add", "--from-json", "-", NULL), 0);
	assert_string_equal(args.from_json, "-");
}

static void test_card_commands_parse(void **state)
{
	(void)state;
	assert_int_equal(parse("customer", "edit", "C-000001", "--section",
			       "contact", "--set", "emails.0.address=a@b.es",
			       "--set=phones.1=", "--if-version", "4", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_customer_edit);
	assert_string_equal(args.pos[0], "C-000001");
	assert_string_equal(args.section, "contact");
	assert_int_equal(args.sets.n, 2);
	assert_string_equal(args.sets.v[0], "emails.0.address=a@b.es");
	assert_string_equal(args.sets.v[1], "phones.1=");
	assert_int_equal(args.if_version, 4);

	assert_int_equal(parse("purchase", "add", "maria@example.com",
			       "--product", "Shoes", "--amount", "49.90",
			       "--currency", "eur", "--quantity", "2", "--date",
			       "2026-11-30", "--channel", "shop", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_purchase_add);
	assert_string_equal(args.amount, "49.90");
	assert_int_equal(args.quantity, 2);

	assert_int_equal(parse("purchase", "list", "C-1", "--limit", "500",
			       "--all", "--cursor", "abc", "--json", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_purchase_list);
	assert_int_equal(args.limit, 500);
	assert_true(args.all);
	assert_string_equal(args.cursor, "abc");

	assert_int_equal(parse("interaction", "add", "C-1", "--channel",
			       "phone", "--summary", "called", "--at", "-2h",
			       "--satisfaction", "5", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_interaction_add);
	assert_int_equal(args.satisfaction, 5);

	assert_int_equal(parse("note", "add", "C-1", "likes tea", NULL), 0);
	assert_ptr_equal(args.cmd->run, cmd_note_add);
	assert_string_equal(args.pos[1], "likes tea");

	assert_int_equal(parse("consent", "set", "C-1", "--purpose",
			       "marketing", "--channel", "email", "withdrawn",
			       "--source", "phone", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_consent_set);
	assert_string_equal(args.pos[1], "withdrawn");

	assert_int_equal(parse("pref", "set", "C-1", "colour", "blue", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_pref_set);
	assert_int_equal(args.npos, 3);

	assert_int_equal(parse("field", "define", "tier", "--type", "choice",
			       "--section", "preferences", "--choice", "gold",
			       "--choice", "silver", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_field_define);
	assert_int_equal(args.choices.n, 2);

	assert_int_equal(parse("admin", "policy", "set", "marketing",
			       "purchases", "none", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_policy_set);
	assert_string_equal(args.path, "admin policy set");

	assert_int_equal(parse("admin", "department", "add", "legal", NULL), 0);
	assert_ptr_equal(args.cmd->run, cmd_department_add);

	assert_int_equal(parse("audit", "--customer", "C-1", "--principal",
			       "ana", "--since", "-7d", "--all", NULL),
			 0);
	assert_ptr_equal(args.cmd->run, cmd_audit);
	assert_string_equal(args.since, "-7d");
}

static void test_card_usage_errors(void **state)
{
	static const struct {
		const char *words[14];
		const char *reason;
	} cases[] = {
	    {{"customer", "add"},
	     "customer add: nothing to add: give fields (--given-name, "
	     "--email, ...) or --from-json FILE"},
	    {{"customer", "add", "--from-json", "c.json", "--email", "a@b"},
	     "customer add: --from-json cannot be combined with the card's "
	     "fields"},
	    {{"customer", "add", "--given-name", "A", "--birth-date",
	      "1980-02-30"},
	     "customer add: --birth-date: '1980-02-30' is not a date "
	     "(YYYY-MM-DD)"},
	    {{"customer", "add", "--given-name", "A", "--given-name", "B"},
	     "customer add: --given-name given twice"},
	    {{"customer", "show"}, "customer show: missing REF"},
	    {{"customer", "show", "a", "b"},
	     "customer show: unexpected argument 'b'"},
	    {{"customer", "edit", "C-1", "--section", "contact", "--set",
	      "a=b"},
	     "customer edit: missing --if-version"},
	    {{"customer", "edit", "C-1", "--section", "contact", "--if-version",
	      "3"},
	     "customer edit: missing --set"},
	    {{"customer", "edit", "C-1", "--section", "custom", "--set", "a=b",
	      "--if-version", "3"},
	     "customer edit: --section: 'custom' is not a section (identity, "
	     "contact, demographics, purchases, preferences, interactions, "
	     "notes, consent)"},
	    {{"customer", "edit", "C-1", "--section", "contact", "--set", "=b",
	      "--if-version", "3"},
	     "customer edit: --set: '=b' is not FIELD=VALUE (FIELD= with "
	     "nothing after removes an item)"},
	    {{"customer", "edit", "C-1", "--section", "contact", "--set", "a=b",
	      "--if-version", "x"},
	     "customer edit: --if-version must be a whole number from 0 to "
	     "9223372036854775807, not 'x'"},
	    {{"purchase", "add", "C-1", "--product", "x", "--amount", "1.5",
	      "--currency", "JPY"},
	     "purchase add: --amount: '1.5': JPY has no decimals"},
	    {{"purchase", "add", "C-1", "--product", "x", "--amount", "0.1234",
	      "--currency", "KWD"},
	     "purchase add: --amount: '0.1234': KWD has at most 3 decimals"},
	    {{"purchase", "add", "C-1", "--product", "x", "--amount", "49,90",
	      "--currency", "EUR"},
	     "purchase add: --amount: '49,90' is not an amount: write the "
	     "decimals after a dot, without thousands separators"},
	    {{"purchase", "add", "C-1", "--product", "x", "--amount", "1",
	      "--currency", "EURO"},
	     "purchase add: --currency: 'EURO' is not an ISO 4217 code (like "
	     "EUR)"},
	    {{"purchase", "add", "C-1", "--product", "x", "--amount", "1",
	      "--currency", "EUR", "--date", "yesterday"},
	     "purchase add: --date: 'yesterday' is not a date (YYYY-MM-DD)"},
	    {{"purchase", "add", "C-1", "--amount", "1", "--currency", "EUR"},
	     "purchase add: missing --product"},
	    {{"purchase", "list", "C-1", "--limit", "501"},
	     "purchase list: --limit must be a whole number from 1 to 500, "
	     "not '501'"},
	    {{"interaction", "add", "C-1", "--channel", "phone", "--summary",
	      "x", "--satisfaction", "6"},
	     "interaction add: --satisfaction must be a whole number from 1 "
	     "to 5, not '6'"},
	    {{"interaction", "add", "C-1", "--channel", "phone", "--summary",
	      "x", "--at", "soon"},
	     "interaction add: --at: 'soon' is not a time (2026-12-01, "
	     "2026-12-01T10:00:00Z, -7d or -24h)"},
	    {{"note", "add", "C-1"}, "note add: missing TEXT"},
	    {{"consent", "set", "C-1", "--purpose", "p", "--channel", "email",
	      "maybe"},
	     "consent set: 'maybe' is not granted or withdrawn"},
	    {{"consent", "set", "C-1", "--purpose", "p", "--channel", "email"},
	     "consent set: missing STATE"},
	    {{"pref", "set", "C-1", "colour"}, "pref set: missing VALUE"},
	    {{"pref", "unset", "C-1"}, "pref unset: missing KEY"},
	    {{"field", "define", "tier", "--type", "choice", "--section",
	      "identity"},
	     "field define: a choice field needs --choice values"},
	    {{"field", "define", "tier", "--type", "text", "--section",
	      "identity", "--choice", "a"},
	     "field define: --choice is only for --type choice"},
	    {{"field", "define", "n", "--type", "number", "--section",
	      "identity", "--max-length", "4"},
	     "field define: --max-length is only for --type text"},
	    {{"field", "define", "n", "--type", "float", "--section",
	      "identity"},
	     "field define: --type: 'float' is not text, number, date, bool "
	     "or choice"},
	    {{"field", "set", "C-1", "tier"}, "field set: missing VALUE"},
	    {{"admin", "policy", "set", "sales", "contact", "all"},
	     "admin policy set: 'all' is not none, read or write"},
	    {{"admin", "policy", "set", "sales", "kitchen", "read"},
	     "admin policy set: SECTION: 'kitchen' is not a section "
	     "(identity, contact, demographics, purchases, preferences, "
	     "interactions, notes, consent)"},
	    {{"admin", "policy"},
	     "admin policy: missing command (try 'carta admin policy "
	     "--help')"},
	    {{"admin", "department", "add"},
	     "admin department add: missing "
	     "NAME"},
	    {{"audit", "--since", "last week"},
	     "audit: --since: 'last week' is not a time (2026-12-01, "
	     "2026-12-01T10:00:00Z, -7d or -24h)"},
	    {{"audit", "--amount", "1"}, "audit: unknown option '--amount'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[16];
		int argc = 0;

		argv[argc++] = (char *)"carta";
		for (int w = 0; cases[i].words[w] != NULL; w++)
			argv[argc++] = (char *)cases[i].words[w];
		argv[argc] = NULL;
		assert_int_equal(
		    cli_parse(&cli_root, argc, argv, &args, err, sizeof err),
		    CLI_EXIT_USAGE);
		assert_string_equal(err, cases[i].reason);
	}
}

static void test_repeated_option_bound(void **state)
{
	char *argv[2 + 2 * (CLI_LIST_MAX + 1) + 4];
	int argc = 0;

	(void)state;
	argv[argc++] = (char *)"carta";
	argv[argc++] = (char *)"customer";
	argv[argc++] = (char *)"add";
	for (int i = 0; i <= CLI_LIST_MAX; i++) {
		argv[argc++] = (char *)"--email";
		argv[argc++] = (char *)"a@b.es";
	}
	argv[argc] = NULL;
	assert_int_equal(
	    cli_parse(&cli_root, argc, argv, &args, err, sizeof err),
	    CLI_EXIT_USAGE);
	assert_string_equal(err, "customer add: --email given more than 32 "
				 "times");
}

static void test_double_dash_ends_options(void **state)
{
	(void)state;
	assert_int_equal(parse("admin", "revoke", "--json", "--", "-odd", NULL),
			 0);
	assert_true(args.json);
	assert_string_equal(args.pos[0], "-odd");
}

static void test_sanitize_for_terminal(void **state)
{
	char out[64];

	(void)state;
	/* Escape sequences, C1 controls and invalid bytes become '?';
	 * valid multi-byte text is kept, counted in terminal columns. */
	assert_int_equal(cli_sanitize("ab\x1b[31mc", out, sizeof out), 8);
	assert_string_equal(out, "ab?[31mc");
	assert_int_equal(cli_sanitize("Jos\xc3\xa9", out, sizeof out), 4);
	assert_string_equal(out, "Jos\xc3\xa9");
	assert_int_equal(cli_sanitize("x\xc2\x9by\xff", out, sizeof out), 4);
	assert_string_equal(out, "x?y?");
	/* Wide characters take two columns, combining marks none. */
	assert_int_equal(cli_sanitize("\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e",
				      out, sizeof out),
			 6); /* 王小明 */
	assert_int_equal(cli_sanitize("Jose\xcc\x81", out, sizeof out), 4);
	/* Overlong and surrogate encodings are invalid. */
	cli_sanitize("\xc0\xaf\xed\xa0\x80", out, sizeof out);
	assert_string_equal(out, "?????");
	/* Truncation never splits a character. */
	cli_sanitize("\xc3\xa9\xc3\xa9", out, 4);
	assert_string_equal(out, "\xc3\xa9");
}

static void test_json_string_repairs_utf8(void **state)
{
	(void)state;
	json_t *v = cli_json_str("a\xff"
				 "b");
	assert_non_null(v);
	assert_string_equal(json_string_value(v), "a\xef\xbf\xbd"
						  "b");
	json_decref(v);
}

static void test_profile_resolution_order(void **state)
{
	char path[256];
	enum carta_profile_source src;

	(void)state;
	setenv("HOME", "/home/tester", 1);
	setenv("CARTA_PROFILE", "/env/profile", 1);
	assert_int_equal(
	    carta_profile_resolve("/flag/profile", path, sizeof path, &src), 0);
	assert_string_equal(path, "/flag/profile");
	assert_int_equal(src, CARTA_PROFILE_FLAG);

	assert_int_equal(carta_profile_resolve(NULL, path, sizeof path, &src),
			 0);
	assert_string_equal(path, "/env/profile");
	assert_int_equal(src, CARTA_PROFILE_ENV);

	setenv("CARTA_PROFILE", "", 1);
	assert_int_equal(carta_profile_resolve(NULL, path, sizeof path, &src),
			 0);
	assert_string_equal(path, "/home/tester/.config/carta/profile");
	assert_int_equal(src, CARTA_PROFILE_DEFAULT);

	assert_int_equal(carta_profile_resolve(NULL, path, 8, &src),
			 CARTA_ETOOBIG);
	unsetenv("CARTA_PROFILE");
}

static void test_options_from_overrides_alone(void **state)
{
	carta_profile_args pa = {.server = "127.0.0.1:9",
				 .server_key = KEY_B64,
				 .key_file = "/nonexistent/key"};
	carta_options opts;
	char why[256];

	(void)state;
	setenv("HOME", "/nonexistent-home", 1);
	unsetenv("CARTA_PROFILE");
	/* No profile is needed, so the failure is the missing key file. */
	assert_int_equal(
	    carta_options_load(&pa, &opts, NULL, 0, NULL, 0, why, sizeof why),
	    CARTA_ENOENT);
	assert_non_null(strstr(why, "key file"));

	pa.key_file = NULL;
	assert_int_equal(
	    carta_options_load(&pa, &opts, NULL, 0, NULL, 0, why, sizeof why),
	    CARTA_ENOENT);
	assert_non_null(strstr(why, "no profile"));

	pa.key_file = "/nonexistent/key";
	pa.server_key = "not-a-key";
	assert_int_equal(
	    carta_options_load(&pa, &opts, NULL, 0, NULL, 0, why, sizeof why),
	    CARTA_EINVAL);
	assert_non_null(strstr(why, "server key"));
}

static void test_bad_server_addresses(void **state)
{
	static const char *const bad[] = {
	    "::1:7420",	  "[::1",      "[::1]x", "host:", "host:0",
	    "host:65536", "host:12ab", ":7420",	 "[]:1",
	};
	carta_options opts;

	(void)state;
	memset(&opts, 0, sizeof opts);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		carta_client *c = NULL;

		snprintf(opts.server, sizeof opts.server, "%s", bad[i]);
		assert_int_equal(carta_connect(&opts, &c), CARTA_EINVAL);
		assert_non_null(c);
		assert_non_null(
		    strstr(carta_client_errmsg(c), "bad server address"));
		/* A dead handle refuses requests and keeps its message. */
		assert_int_equal(carta_admin_revoke(c, "x"), CARTA_ESTATE);
		assert_non_null(
		    strstr(carta_client_errmsg(c), "bad server address"));
		carta_close(c);
	}
	opts.server[0] = '\0';
	carta_client *c = NULL;
	assert_int_equal(carta_client_new(&opts, &c), CARTA_EINVAL);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_globals_before_and_after),
	    cmocka_unit_test(test_ping_options),
	    cmocka_unit_test(test_help_at_every_level),
	    cmocka_unit_test(test_help_text_fits_80_columns),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_customer_add_options),
	    cmocka_unit_test(test_card_commands_parse),
	    cmocka_unit_test(test_card_usage_errors),
	    cmocka_unit_test(test_repeated_option_bound),
	    cmocka_unit_test(test_double_dash_ends_options),
	    cmocka_unit_test(test_sanitize_for_terminal),
	    cmocka_unit_test(test_json_string_repairs_utf8),
	    cmocka_unit_test(test_profile_resolution_order),
	    cmocka_unit_test(test_options_from_overrides_alone),
	    cmocka_unit_test(test_bad_server_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
