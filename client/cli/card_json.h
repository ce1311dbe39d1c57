/* The JSON form of a customer card and of the card's other messages
 * (purchases, interactions, notes, consents, field definitions, audit
 * entries ...), as documented in docs/CARD.md.
 *
 * The field names are the proto's. Times (`at` and `*_at`) are written as
 * "2026-12-01T10:00:00Z" and read from such a string, a date, a relative
 * time ("-7d") or Unix seconds. Enums are lower-case names ("contact",
 * "granted"). Empty strings, zero numbers and false are left out on
 * output; repeated fields are always written (possibly []), except on a
 * card the lists of the sections it withholds. A card's preferences are
 * an object {"key": "value"} and its section versions an object
 * {"contact": {"version": 4, "updated_at": ...}}; a purchase also has
 * "amount", the decimal text of amount_minor ("49.90"), which input may
 * give instead of amount_minor. */
#ifndef CARTA_CLI_CARD_JSON_H
#define CARTA_CLI_CARD_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "carta.pb-c.h"

/* New JSON object for card (a new reference; NULL when out of memory). */
json_t *card_json_from_card(const Carta__V1__Card *card);

/* New JSON object for any message of proto/carta.proto, by the same
 * rules. */
json_t *card_json_from_msg(const ProtobufCMessage *msg);

/* Converts v into a new message of type desc. Unknown fields and values
 * of the wrong type are refused. On success *out is the caller's (free
 * with protobuf_c_message_free_unpacked(*out, NULL)); on failure *out is
 * NULL and err holds "PATH: reason" (contact.emails[0].address: expected
 * a string). Returns 0 or -1. */
int card_json_to_msg(json_t *v, const ProtobufCMessageDescriptor *desc,
		     ProtobufCMessage **out, char *err, size_t errlen);

/* card_json_to_msg for a Card. */
int card_json_to_card(json_t *v, Carta__V1__Card **out, char *err,
		      size_t errlen);

/* Parses text (len bytes) as a JSON card. Syntax errors say where:
 * "line 3, column 14: ...". */
int card_json_parse(const char *text, size_t len, Carta__V1__Card **out,
		    char *err, size_t errlen);

/* Reads a JSON card from the file path ("-" for standard input). Errors
 * start with the path ("card.json: line 3, column 14: ..."). */
int card_json_load(const char *path, Carta__V1__Card **out, char *err,
		   size_t errlen);

#endif
