/* The card store: cards and their sections, appends with idempotency
 * keys, departments' policies, custom fields and the audit log. Every
 * write runs in one transaction together with its audit rows; nothing is
 * half-applied. Messages returned are malloc'd as protobuf-c's unpack
 * would: free them with the matching __free_unpacked.
 *
 * This layer enforces no permissions (policy.c does, before and after);
 * it does no validation of values (card.c does, before). */
#ifndef CARTAD_STORE_CARD_H
#define CARTAD_STORE_CARD_H

#include <stdint.h>

#include "carta.pb-c.h"
#include "store.h"

#define STORE_RECENT_ITEMS 20
/* A page of a list stops growing past this many bytes: with the largest
 * item (a note of 4,000 four-byte characters) it still fits in one
 * message. */
#define STORE_PAGE_BYTES 40000
/* A card without its recent lists is kept at most this large (writes
 * beyond it get CARTA_ETOOBIG), so that every card can be shown. */
#define STORE_CARD_BYTES 48000
/* Audit values larger than this are shown as their size only. */
#define STORE_AUDIT_VALUE_BYTES 24000

/* store_card_add that first looks for cards the new one looks like (the
 * matcher of store_match.h, in the same transaction): unless force, when
 * there are any, nothing is written and CARTA_EEXIST is returned with
 * *dups (freed with store_match_free; names set: the caller clears them
 * when it may not read identity). A retry with the request key of an
 * earlier add returns that card without a check. */
int store_card_add_checked(store *s, const store_actor *who,
			   const char *request_key, const Carta__V1__Card *card,
			   int force, Carta__V1__DuplicateCandidate ***dups,
			   size_t *ndups, Carta__V1__Card **out);

/* Resolves ref (customer number, 32-hex id, email address, or phone in
 * E.164) and loads the whole card with its most recent purchases,
 * interactions and notes. CARTA_ENOENT when no card matches. */
int store_card_get(store *s, const char *ref, Carta__V1__Card **out);

/* Creates a card from the given sections (already validated); assigns id
 * and number. With a request key already used by this principal, returns
 * the card it created then. */
int store_card_add(store *s, const store_actor *who, const char *request_key,
		   const Carta__V1__Card *card, Carta__V1__Card **out);

/* Changes one section of a card inside one transaction: loads the card,
 * refuses with CARTA_ECONFLICT (and *current = the section's version) when
 * the section's version is not if_version (0: no check, for changes that
 * do not depend on what was read), calls apply to change
 * card->SECTION in place (apply returns 0 or an error code that is
 * returned as is), writes the section back, bumps versions and audits old
 * and new values. *out is the card after the change. A change that would
 * make the card larger than STORE_CARD_BYTES gives CARTA_ETOOBIG. */
typedef int (*store_apply_fn)(void *arg, Carta__V1__Card *card);
int store_card_edit(store *s, const store_actor *who, const char *ref,
		    int section, uint64_t if_version, store_apply_fn apply,
		    void *arg, uint64_t *current, Carta__V1__Card **out);

/* Appends a purchase, interaction or note (section says which; item is a
 * Carta__V1__Purchase, __Interaction or __Note, validated). The id and
 * author fields are set here. With a request key this principal already
 * used for the same card and section, the first item is returned and
 * nothing is written; a key it used for another request gives
 * CARTA_ESTATE. A reference matching several cards gives CARTA_EEXIST.
 * *out is the stored item. */
int store_append(store *s, const store_actor *who, const char *ref, int section,
		 const char *request_key, const ProtobufCMessage *item,
		 ProtobufCMessage **out);

/* One page of purchases, interactions or notes, newest first. cursor is
 * "" or a next_cursor from a previous page. *out is a PurchasePage,
 * InteractionPage or NotePage. CARTA_EINVAL for a malformed cursor. */
int store_list(store *s, const char *ref, int section, const char *cursor,
	       unsigned limit, ProtobufCMessage **out);

/* ---- import ------------------------------------------------------------ */

/* What became of one imported record (values of carta.v1.ImportOutcome's
 * Kind). */
enum {
	STORE_IMPORT_CREATED = 1,
	STORE_IMPORT_UPDATED = 2,
	STORE_IMPORT_UNCHANGED = 3,
	STORE_IMPORT_REJECTED = 4,
	STORE_IMPORT_DUPLICATE = 5,
	STORE_IMPORT_SUPPRESSED = 6,
};

/* The reason of a record that writes a section its department may read
 * but not write, followed by what the record does ("changes it"). */
#define STORE_IMPORT_UNWRITABLE                                                \
	"your department may not write this section, and the record "

typedef struct {
	int kind;
	char number[32];   /* the card's customer number */
	char field[64];	   /* REJECTED: the field at fault, if one */
	char message[384]; /* why (REJECTED ...), or phones left out */
	unsigned added;	   /* purchases, interactions and notes appended */
	unsigned present;  /* purchases whose invoice the card already had */
	unsigned phones_left_out; /* by skip_bad_phones, named in message */
	/* DUPLICATE: the cards it looks like (store_match_free) */
	Carta__V1__DuplicateCandidate **dups;
	size_t ndups;
} store_import_outcome;

/* Applies validated import records in one write transaction, each inside
 * its own savepoint: a record that fails here (its external id taken by
 * another card, its key matching several cards, a card grown too large)
 * is rolled back alone and reported REJECTED; the others commit together.
 * upsert_by is a carta.v1.UpsertKey: a record whose key finds a card
 * updates it (non-empty single values replace, contact points, consents,
 * preferences and custom values are added or updated, nothing is
 * removed; purchases are appended unless the card has their invoice,
 * interactions and notes unless one with the same text (and time, when
 * it has one) is there); a record
 * that finds none creates a card when upsert_by is NONE or create_missing
 * is set, and is REJECTED otherwise; unless force, a record to create
 * that looks like existing cards (store_match.h; records earlier in the
 * batch included) is DUPLICATE, with the candidates, and not created.
 * An identity status of "" leaves the status as it is (a new card is
 * active). unchanged[i] (NULL: none) are the sections (1 << section)
 * record i may carry but not change (policy_import_record): a record that
 * would change one, or create a card, is REJECTED naming it.
 * cards[i] NULL: skipped, out[i] untouched. With dry_run the
 * transaction is rolled back at the end: nothing is written and the outcomes
 * are those a real run would give. */
int store_import(store *s, const store_actor *who, int upsert_by,
		 int create_missing, int dry_run, int force,
		 Carta__V1__Card *const *cards, const uint32_t *unchanged,
		 size_t n, store_import_outcome *out);

/* Custom fields. */
int store_field_define(store *s, const store_actor *who,
		       const Carta__V1__FieldDef *def);
int store_field_get(store *s, const char *name, Carta__V1__FieldDef **out);
int store_field_list(store *s, Carta__V1__FieldList **out);

/* Departments and policies. access is indexed by Carta__V1__Section. */
int store_department_create(store *s, const store_actor *who, const char *name);
int store_department_list(store *s, Carta__V1__DepartmentList **out);
int store_policy_get(store *s, const char *department, uint8_t access[9]);
int store_policy_set(store *s, const store_actor *who, const char *department,
		     int section, int access);
int store_policy_table(store *s, Carta__V1__PolicyTable **out);

/* Audit entries, oldest first, filtered by card (resolved ref; "" for
 * all), principal ("" for all) and time. */
int store_audit_list(store *s, const char *ref, const char *principal,
		     int64_t since, const char *cursor, unsigned limit,
		     Carta__V1__AuditPage **out);

#endif
