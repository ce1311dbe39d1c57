/* Enum names of the card; see card_enum.h. */
#include "card_enum.h"

#include <stdio.h>
#include <string.h>

#include "carta.pb-c.h"

const card_enum card_enum_sections[] = {
    {CARTA__V1__SECTION__SECTION_IDENTITY, "identity"},
    {CARTA__V1__SECTION__SECTION_CONTACT, "contact"},
    {CARTA__V1__SECTION__SECTION_DEMOGRAPHICS, "demographics"},
    {CARTA__V1__SECTION__SECTION_PURCHASES, "purchases"},
    {CARTA__V1__SECTION__SECTION_PREFERENCES, "preferences"},
    {CARTA__V1__SECTION__SECTION_INTERACTIONS, "interactions"},
    {CARTA__V1__SECTION__SECTION_NOTES, "notes"},
    {CARTA__V1__SECTION__SECTION_CONSENT, "consent"},
    {0, NULL},
};

const card_enum card_enum_access[] = {
    {CARTA__V1__ACCESS__ACCESS_NONE, "none"},
    {CARTA__V1__ACCESS__ACCESS_READ, "read"},
    {CARTA__V1__ACCESS__ACCESS_WRITE, "write"},
    {0, NULL},
};

const card_enum card_enum_consent[] = {
    {CARTA__V1__CONSENT_STATE__CONSENT_GRANTED, "granted"},
    {CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN, "withdrawn"},
    {0, NULL},
};

const card_enum card_enum_field_types[] = {
    {CARTA__V1__FIELD_TYPE__FIELD_TEXT, "text"},
    {CARTA__V1__FIELD_TYPE__FIELD_NUMBER, "number"},
    {CARTA__V1__FIELD_TYPE__FIELD_DATE, "date"},
    {CARTA__V1__FIELD_TYPE__FIELD_BOOL, "bool"},
    {CARTA__V1__FIELD_TYPE__FIELD_CHOICE, "choice"},
    {0, NULL},
};

const char *card_enum_name(const card_enum *table, int value)
{
	for (const card_enum *e = table; e->name != NULL; e++)
		if (e->value == value)
			return e->name;
	return "?";
}

int card_enum_parse(const card_enum *table, const char *name)
{
	for (const card_enum *e = table; e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return e->value;
	return -1;
}

void card_enum_list(const card_enum *table, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (const card_enum *e = table; e->name != NULL && n < cap; e++) {
		int w = snprintf(out + n, cap - n, "%s%s", n > 0 ? ", " : "",
				 e->name);

		if (w < 0)
			break;
		n += (size_t)w;
	}
}
