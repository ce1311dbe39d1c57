/* The names of the card's enums as the CLI and the JSON card format spell
 * them: sections ("contact"), access ("write"), consent states
 * ("granted") and custom field types ("choice"). */
#ifndef CARTA_CLI_CARD_ENUM_H
#define CARTA_CLI_CARD_ENUM_H

#include <stddef.h>

typedef struct {
	int value;
	const char *name;
} card_enum;

/* Each table ends with {0, NULL}. Section and access tables list every
 * value in the proto's order; the first entry of each is the first real
 * value (SECTION_IDENTITY, ACCESS_NONE, ...). */
extern const card_enum card_enum_sections[];
extern const card_enum card_enum_access[];
extern const card_enum card_enum_consent[];
extern const card_enum card_enum_field_types[];

/* The name of value in table, or "?" when it has none (never NULL). */
const char *card_enum_name(const card_enum *table, int value);

/* The value named name in table, or -1. */
int card_enum_parse(const card_enum *table, const char *name);

/* The names of a table joined with ", " ("none, read, write"), for
 * messages. */
void card_enum_list(const card_enum *table, char *out, size_t cap);

#endif
