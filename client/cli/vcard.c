/* vCard reader and writer. */
#include "vcard.h"

#include "import.h"

const import_reader import_vcard_reader = {.name = "vcard"};

int vcard_write(FILE *out, const Carta__V1__Card *card)
{
	(void)out;
	(void)card;
	return -1;
}
