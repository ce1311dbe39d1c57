/* carta verify due, carta verify confirm and carta admin stats: the cards
 * whose data was not confirmed with the customer for a while, with the
 * channel to ask by; recording a confirmation; and how current the cards
 * are. docs/VERIFY.md has the rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "card_enum.h"
#include "cli.h"

#define DAY 86400LL

static const char *const sources[] = {"phone", "email", "visit", "form"};

/* Sections a confirmation covers, in the card's order. */
static const int verified_sections[] = {
    CARTA__V1__SECTION__SECTION_IDENTITY,
    CARTA__V1__SECTION__SECTION_CONTACT,
    CARTA__V1__SECTION__SECTION_DEMOGRAPHICS,
    CARTA__V1__SECTION__SECTION_PREFERENCES,
    CARTA__V1__SECTION__SECTION_CONSENT,
};

/* "carta: PATH: OPTION: 'VALUE' is not WHAT" on stderr. */
static int usage(const cli_args *a, const char *option, const char *value,
		 const char *what)
{
	fprintf(stderr, "carta: %s: %s: '%s' is not %s\n", a->path, option,
		cli_safe(value), what);
	return CLI_EXIT_USAGE;
}

/* "365d", "12w", "24h", "30m" or "90s" in seconds; -1 when malformed or
 * not positive. */
static int64_t parse_age(const char *s)
{
	char *end = NULL;
	long long n = strtoll(s, &end, 10);

	if (end == s || s[0] == '-' || s[0] == '+' || n <= 0 || n > 100000 ||
	    end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (end[0]) {
	case 's':
		return n;
	case 'm':
		return n * 60;
	case 'h':
		return n * 3600;
	case 'd':
		return n * DAY;
	case 'w':
		return n * 7 * DAY;
	default:
		return -1;
	}
}

/* Parses --older-than (default 365 days). Returns 0 or an exit status. */
static int take_age(const cli_args *a, int64_t *out)
{
	*out = 365 * DAY;
	if (a->older_than == NULL)
		return 0;
	*out = parse_age(a->older_than);
	if (*out < 0)
		return usage(a, "--older-than", a->older_than,
			     "an age like 365d, 12w or 24h");
	return 0;
}

/* Parses --section into *out (0 when not given). */
static int take_section(const cli_args *a, int *out)
{
	*out = 0;
	if (a->section == NULL)
		return 0;
	*out = card_enum_parse(card_enum_sections, a->section);
	for (size_t i = 0; *out > 0 && i < sizeof(verified_sections) /
					       sizeof(verified_sections[0]);
	     i++)
		if (verified_sections[i] == *out)
			return 0;
	return usage(a, "--section", a->section,
		     "one of identity, contact, demographics, preferences, "
		     "consent");
}

/* "2025-03-01" for Unix seconds, "never" for 0. */
static void day_of(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 16, "%Y-%m-%d", &tm) == 0)
		snprintf(out, 16, "never");
}

/* An ISO time, or null for 0. */
static json_t *json_time(int64_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	cli_time(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *json_str_or_null(const char *s)
{
	return s != NULL && s[0] ? cli_json_str(s) : json_null();
}

/* ---- carta verify due ------------------------------------------------ */

static const char *const due_titles[] = {"NUMBER",   "NAME",	"SECTION",
					 "VERIFIED", "CHANNEL", "CONTACT"};

struct due_ctx {
	cli_table table;
	size_t shown;
};

static int due_page(const cli_args *a, void *ud, const Carta__V1__Response *r,
		    const char **next)
{
	struct due_ctx *d = ud;
	const Carta__V1__VerifyDuePage *page = r->verify_due;

	*next = NULL;
	if (r->body_case != CARTA__V1__RESPONSE__BODY_VERIFY_DUE ||
	    page == NULL)
		return cli_fail(a, "the server answered with something else");
	*next = page->next_cursor;
	for (size_t i = 0; i < page->n_items; i++) {
		const Carta__V1__VerifyDueItem *it = page->items[i];
		const char *section =
		    card_enum_name(card_enum_sections, (int)it->section);
		char day[16];

		d->shown++;
		if (a->json) {
			json_t *o = json_object();
			json_object_set_new(o, "number",
					    cli_json_str(it->number));
			json_object_set_new(o, "name", cli_json_str(it->name));
			json_object_set_new(o, "section", json_string(section));
			json_object_set_new(o, "verified_at",
					    json_time(it->verified_at));
			json_object_set_new(o, "channel",
					    json_str_or_null(it->channel));
			json_object_set_new(o, "contact",
					    json_str_or_null(it->contact));
			int rv = cli_print_json(a, o);
			if (rv != 0)
				return rv;
			continue;
		}
		day_of(it->verified_at, day);
		const char *cells[6] = {it->number, it->name,	 section,
					day,	    it->channel, it->contact};
		if (cli_table_add(&d->table, cells) != 0)
			return cli_fail(a, "out of memory");
	}
	if (!a->json)
		cli_table_flush(&d->table);
	return 0;
}

int cmd_verify_due(const cli_args *a)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__VerifyDueRequest due = CARTA__V1__VERIFY_DUE_REQUEST__INIT;
	struct due_ctx d = {0};
	int64_t age = 0;
	int section = 0;
	int status = take_age(a, &age);

	if (status == 0)
		status = take_section(a, &section);
	if (status != 0)
		return status;
	due.older_than = age;
	due.section = (Carta__V1__Section)section;
	due.limit = (uint32_t)a->limit;
	req.body_case = CARTA__V1__REQUEST__BODY_VERIFY_DUE;
	req.verify_due = &due;

	if (cli_table_init(&d.table, due_titles, 6, 0) != 0) {
		cli_table_free(&d.table);
		return cli_fail(a, "out of memory");
	}
	status = cli_pages(a, &req, &due.cursor, due_page, &d);
	if (status == 0 && !a->json && d.shown == 0)
		printf("no cards due\n");
	cli_table_free(&d.table);
	return status;
}

/* ---- carta verify confirm -------------------------------------------- */

static const char *const confirm_titles[] = {"SECTION", "VERIFIED", "SOURCE"};

static int confirm_reply(const cli_args *a, void *ud,
			 const Carta__V1__Response *r)
{
	const Carta__V1__Card *card = r->card;
	cli_table t;
	json_t *sections = NULL;
	int status = 0;
	(void)ud;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_CARD || card == NULL)
		return cli_fail(a, "the server answered with something else");
	const char *number = card->identity ? card->identity->number : "";
	if (a->json) {
		sections = json_object();
	} else {
		if (cli_table_init(&t, confirm_titles, 3, 2) != 0) {
			cli_table_free(&t);
			return cli_fail(a, "out of memory");
		}
		printf("%s confirmed by %s\n", cli_safe(number),
		       cli_safe(a->source));
	}

	/* How current each section the card shows now is. */
	for (size_t i = 0; i < card->n_sections; i++) {
		const Carta__V1__SectionVersion *sv = card->sections[i];
		bool covered = false;
		for (size_t k = 0; k < sizeof(verified_sections) /
					   sizeof(verified_sections[0]);
		     k++)
			covered |= verified_sections[k] == (int)sv->section;
		if (!covered)
			continue;
		const char *name =
		    card_enum_name(card_enum_sections, (int)sv->section);
		if (a->json) {
			json_t *o = json_object();
			json_object_set_new(o, "verified_at",
					    json_time(sv->verified_at));
			json_object_set_new(
			    o, "source", json_str_or_null(sv->verified_source));
			json_object_set_new(sections, name, o);
			continue;
		}
		char when[32];
		cli_time(sv->verified_at, when, sizeof(when));
		const char *cells[3] = {name, sv->verified_at ? when : "never",
					sv->verified_source};
		if (cli_table_add(&t, cells) != 0)
			status = cli_fail(a, "out of memory");
	}
	if (a->json) {
		json_t *o = json_object();
		json_object_set_new(o, "number", cli_json_str(number));
		json_object_set_new(o, "sections", sections);
		return cli_print_json(a, o);
	}
	cli_table_flush(&t);
	cli_table_free(&t);
	return status;
}

int cmd_verify_confirm(const cli_args *a)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__VerifyConfirmRequest vc =
	    CARTA__V1__VERIFY_CONFIRM_REQUEST__INIT;
	cli_handler h = {.each = confirm_reply};
	bool known = false;
	int section = 0;
	int status = take_section(a, &section);

	if (status != 0)
		return status;
	for (size_t i = 0; i < 4; i++)
		known |= strcmp(a->source, sources[i]) == 0;
	if (!known)
		return usage(a, "--source", a->source,
			     "one of phone, email, visit, form");
	vc.ref = (char *)a->pos[0];
	vc.section = (Carta__V1__Section)section;
	vc.source = (char *)a->source;
	req.body_case = CARTA__V1__REQUEST__BODY_VERIFY_CONFIRM;
	req.verify_confirm = &vc;
	/* Confirming twice records two confirmations a second apart:
	 * harmless, so a lost connection may send it again. */
	h.retry = true;
	return cli_request(a, &req, &h);
}

/* ---- carta admin stats ----------------------------------------------- */

static int stats_reply(const cli_args *a, void *ud,
		       const Carta__V1__Response *r)
{
	const Carta__V1__Stats *s = r->stats;
	const char *age = ud;

	if (r->body_case != CARTA__V1__RESPONSE__BODY_STATS || s == NULL)
		return cli_fail(a, "the server answered with something else");
	if (a->json)
		return cli_print_json(
		    a, json_pack("{s:I, s:I, s:f, s:I, s:I, s:I, s:I}", "cards",
				 (json_int_t)s->cards, "verified_within",
				 (json_int_t)s->verified_within,
				 "verified_share", s->verified_share, "period",
				 (json_int_t)s->period, "merged",
				 (json_int_t)s->merged, "erased",
				 (json_int_t)s->erased, "suppressions",
				 (json_int_t)s->suppressions));
	printf("cards             %llu\n", (unsigned long long)s->cards);
	printf("verified within   %llu (%.1f%%) in %s\n",
	       (unsigned long long)s->verified_within,
	       100.0 * s->verified_share, cli_safe(age));
	printf("merged            %llu\n", (unsigned long long)s->merged);
	printf("erased            %llu\n", (unsigned long long)s->erased);
	printf("suppressions      %llu\n", (unsigned long long)s->suppressions);
	return 0;
}

int cmd_admin_stats(const cli_args *a)
{
	Carta__V1__Request req = CARTA__V1__REQUEST__INIT;
	Carta__V1__StatsRequest sr = CARTA__V1__STATS_REQUEST__INIT;
	int64_t age = 0;
	int status = take_age(a, &age);

	if (status != 0)
		return status;
	sr.period = age;
	req.body_case = CARTA__V1__REQUEST__BODY_STATS;
	req.stats = &sr;
	cli_handler h = {.each = stats_reply,
			 .ud = (void *)(a->older_than ? a->older_than : "365d"),
			 .retry = true};
	return cli_request(a, &req, &h);
}
