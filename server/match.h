/* The duplicate matcher: the one place that decides whether two cards look
 * like one person, shared by customer create, import, edit and the bulk
 * scan (store_match.c). A card becomes a match_rec (folded names, email
 * keys, E.164 phones, places, birth date, gender) and two records are
 * scored with the evidence that decided it. docs/DEDUP.md explains the
 * weights.
 *
 * Pure: no store access, no SQL. Thread-safe once match_configure has run
 * (it is called once at start, before any worker thread). */
#ifndef CARTAD_MATCH_H
#define CARTAD_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carta.pb-c.h"

/* Scores are 0 to 1, kept in thousandths so that equal scores compare
 * equal and cursors carry them exactly. */
#define MATCH_MIN_SCORE_DEFAULT 0.85
#define MATCH_SCORE_SCALE	1000

/* Names at least this similar (Jaro-Winkler on folded names) count as
 * the same person's name; at least MATCH_NAME_SAME as the same name. */
#define MATCH_NAME_SIMILAR 0.88
#define MATCH_NAME_SAME	   0.995
/* Below this, two names that are both present disagree. */
#define MATCH_NAME_DIFFERENT 0.70

/* [dedup] in cartad.conf. */
typedef struct {
	bool plus_tags;	    /* "ana+shop@x.com" is "ana@x.com" */
	bool provider_dots; /* gmail.com ignores dots in the local part */
	double min_score;   /* the default threshold of create and scan */
} match_options;

/* The defaults: both rules on, min_score MATCH_MIN_SCORE_DEFAULT. */
void match_options_default(match_options *o);

/* Sets the process-wide options (copied). Call once at start, before
 * worker threads run; until then the defaults are in force. */
void match_configure(const match_options *o);

/* The options in force (borrowed, never NULL). */
const match_options *match_config(void);

/* What the matcher compares of one card. Strings are owned by the record;
 * folded text is lower case without accents, words separated by one
 * space, "" when absent. */
typedef struct {
	char *given, *family, *company; /* folded */
	char birth[11];			/* YYYY-MM-DD or "" */
	char gender[16];		/* folded, "" when unknown */
	char **emails;			/* match_email_key of each */
	size_t n_emails;
	char **phones; /* E.164 */
	size_t n_phones;
	char **postals; /* "ES 28001": country (may be "") and code */
	size_t n_postals;
	char **cities; /* folded */
	size_t n_cities;
} match_rec;

/* Builders of a record zeroed by the caller (or by match_rec_from_card).
 * Each returns 0, CARTA_EINVAL for text that is not UTF-8, or
 * CARTA_ENOMEM; the record stays valid (and must be freed) either way.
 * Empty values are ignored; duplicates are kept once. */
int match_rec_names(match_rec *r, const char *given, const char *family,
		    const char *company);
int match_rec_demographics(match_rec *r, const char *birth_date,
			   const char *gender);
int match_rec_email(const match_options *o, match_rec *r, const char *address);
int match_rec_phone(match_rec *r, const char *e164);
int match_rec_address(match_rec *r, const char *postal_code, const char *city,
		      const char *country);

/* The record of card (its identity, contact and demographics; absent
 * sections count as unknown). Phones are compared by their E.164 number,
 * so card must have been validated. *out is zeroed first and freed with
 * match_rec_free in every case. */
int match_rec_from_card(const match_options *o, const Carta__V1__Card *card,
			match_rec *out);

void match_rec_free(match_rec *r);

/* Forgets what r holds of the sections in hidden (1 << section:
 * identity's names and company, contact's emails, phones and places,
 * demographics' birth date and gender), so that a pair is scored only on
 * what the caller may read. */
void match_rec_hide(match_rec *r, uint32_t hidden);

/* Whether the record has a person's name (else a company's, or none). */
bool match_rec_has_person(const match_rec *r);

/* The evidence of a pair, one bit each. */
enum {
	MATCH_SAME_EMAIL = 1u << 0,
	MATCH_SAME_PHONE = 1u << 1,
	MATCH_SAME_NAME = 1u << 2,
	MATCH_SIMILAR_NAME = 1u << 3,
	MATCH_SWAPPED = 1u << 4, /* with a name: given and family swapped */
	MATCH_SAME_BIRTH = 1u << 5,
	MATCH_SAME_POSTAL = 1u << 6,
	MATCH_SAME_CITY = 1u << 7,
	MATCH_SAME_COMPANY = 1u << 8,
	MATCH_DIFF_NAME = 1u << 9,
	MATCH_DIFF_BIRTH = 1u << 10,
	MATCH_DIFF_GENDER = 1u << 11,
	MATCH_DIFF_EMAILS = 1u << 12, /* both have emails, none shared */
	MATCH_DIFF_PHONES = 1u << 13, /* both have phones, none shared */
};

typedef struct {
	int score;	  /* 0 to MATCH_SCORE_SCALE */
	double name_sim;  /* 0 to 1; 0 when names cannot be compared */
	uint32_t reasons; /* MATCH_* bits */
} match_result;

/* Scores a pair. Symmetric: match_pair(a, b) equals match_pair(b, a). */
void match_pair(const match_rec *a, const match_rec *b, match_result *out);

/* The highest score the pair could have were the names the same: cheap
 * (no name comparison), for skipping pairs that cannot reach a
 * threshold. match_pair(a, b).score <= match_pair_bound(a, b). */
int match_pair_bound(const match_rec *a, const match_rec *b);

/* The similarity of two folded names, the better of the names as given
 * and with one side's words reordered (given and family swapped), 0 to
 * 1; *swapped tells whether the reordering won. Either may be "". */
double match_name_similarity(const char *given_a, const char *family_a,
			     const char *given_b, const char *family_b,
			     bool *swapped);

/* The Jaro-Winkler similarity of two byte strings (0 to 1; 1 for two
 * empty strings). Only the first 128 bytes of each count. */
double match_jaro_winkler(const char *a, const char *b);

/* The reasons of r in words, strongest first ("same email", "similar
 * name (0.93)", "different birth dates"): *out is a malloc'd array of
 * *n malloc'd strings, freed with match_reasons_free. Returns 0 or
 * CARTA_ENOMEM. */
int match_reasons(const match_result *r, char ***out, size_t *n);
void match_reasons_free(char **v, size_t n);

/* The comparison key of an email address: lower case, and with the rules
 * of o (a "+tag" dropped; dots dropped at gmail.com and googlemail.com,
 * which become gmail.com). Returns 0, or CARTA_EINVAL when address has no
 * '@' or the key does not fit cap. */
int match_email_key(const match_options *o, const char *address, char *out,
		    size_t cap);

/* Folds s to words (see match_rec): *out malloc'd. Returns 0,
 * CARTA_EINVAL (not UTF-8) or CARTA_ENOMEM. */
int match_fold_words(const char *s, char **out);

/* Thousandths of a score given as 0 to 1 (clamped). */
int match_score_scale(double score);

#endif
