/* The customer card's rules: validation and normalisation of every
 * section before it is stored, the section names, and the limits. The
 * card travels as the carta.v1 protobuf messages; functions here take a
 * message, normalise it in place (replacing strings with their stored
 * form) and report the first problem with its field path. */
#ifndef CARTAD_CARD_H
#define CARTAD_CARD_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "carta.pb-c.h"

#define CARD_SECTIONS 9	 /* Carta__V1__Section values 1..8, 0 unused */
#define CARD_LIST_MAX 20 /* addresses, phones, emails per card */
#define CARD_ERR_MAX  320
#define CARD_TIME_MIN (-2208988800LL) /* 1900-01-01T00:00:00Z */

typedef struct {
	char path[96];		/* e.g. contact.emails.0.address */
	char msg[CARD_ERR_MAX]; /* path: reason */
	const char *region;	/* default phone region, e.g. "ES" */
	char today[11];		/* YYYY-MM-DD, for dates relative to now */
	char tomorrow[11];	/* today + 1 day: clients ahead of UTC */
	/* The identity may update a card (an import by key): it need not
	 * name the person; creating a card checks that (card_named). */
	bool update;
} card_ctx;

/* Whether an identity names the card: a given or family name, a company
 * or an external id. */
bool card_named(const Carta__V1__Identity *m);

/* "identity", "contact", ...; NULL for values outside 1..8. */
const char *card_section_name(int section);

/* The section named name (case-insensitive), or 0. */
int card_section_parse(const char *name);

/* Each returns 0, or CARTA_EINVAL with ctx->msg "PATH: reason", or
 * CARTA_ENOMEM. prefix is the path of the message ("identity",
 * "purchase"). */
int card_check_identity(card_ctx *ctx, Carta__V1__Identity *m);
int card_check_contact(card_ctx *ctx, Carta__V1__Contact *m);
int card_check_demographics(card_ctx *ctx, Carta__V1__Demographics *m);
/* A purchase has at most this many lines (one invoice's items). */
#define CARD_PURCHASE_LINES 500
int card_check_purchase(card_ctx *ctx, Carta__V1__Purchase *m);
int card_check_interaction(card_ctx *ctx, Carta__V1__Interaction *m);
int card_check_note(card_ctx *ctx, Carta__V1__Note *m);
int card_check_consent(card_ctx *ctx, Carta__V1__Consent *m);
int card_check_preference(card_ctx *ctx, Carta__V1__Preference *m);
int card_check_field_def(card_ctx *ctx, Carta__V1__FieldDef *m);

/* Checks value against the custom field def and normalises it (a date
 * to YYYY-MM-DD, a bool to true/false). */
int card_check_custom(card_ctx *ctx, const Carta__V1__FieldDef *def,
		      char **value);

/* Refuses a card that holds the same preference key, consent (purpose
 * and channel) or custom field twice. */
int card_check_unique(card_ctx *ctx, const Carta__V1__Card *c);

/* Records in c->more_items that section has older items than the card
 * shows (once). Returns 0 or CARTA_ENOMEM. */
int card_mark_more(Carta__V1__Card *c, int section);

/* Drops the oldest item of the card's longest recent list (purchases,
 * interactions, notes) and marks that list as having more, for an answer
 * that must fit one message. Returns 1, or 0 when no item is left (or
 * memory ran out). */
int card_drop_oldest(Carta__V1__Card *c);

/* The sections a new card writes, as bits (1 << section): identity
 * always, and every section it carries data for, custom values by the
 * section they name. Shared by the policy (what creating it needs) and the
 * store (what creating it writes). */
uint32_t card_new_sections(const Carta__V1__Card *c);

/* Whether a card carries anything in its contact or demographics
 * section: an empty object is no write. */
int card_has_contact(const Carta__V1__Card *c);
int card_has_demographics(const Carta__V1__Card *c);

/* Sets ctx->today from the clock and region from the config. */
void card_ctx_init(card_ctx *ctx, const char *region);

#endif
