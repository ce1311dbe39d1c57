/* vCard 2.1, 3.0 and 4.0 in (import_vcard_reader, import.h) and 4.0 out. */
#ifndef CARTA_CLI_VCARD_H
#define CARTA_CLI_VCARD_H

#include <stdio.h>

#include "carta.pb-c.h"

/* Writes card as one vCard 4.0 (CRLF lines folded at 75 octets) to out,
 * with only what the card carries. Returns 0, or -1 on a write error. */
int vcard_write(FILE *out, const Carta__V1__Card *card);

#endif
