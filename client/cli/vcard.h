/* vCard 2.1, 3.0 and 4.0 in (import_vcard_reader, import.h) and 4.0 out.
 *
 * The reader unfolds lines (CRLF or LF then a space or tab; the soft line
 * breaks of quoted-printable; the base64 blocks of 2.1; a 2.1 value whose
 * line ends in a backslash goes on on the next line), decodes
 * QUOTED-PRINTABLE and base64, converts CHARSET values with iconv (the
 * --encoding option names the charset of values without one; without
 * either they must be UTF-8), and reads UTF-16 files whole. A NUL or
 * control byte in a card's lines or decoded values rejects the card with
 * its line (and column), never cuts a value short. docs/VCARD.md says
 * which properties go where.
 *
 * What a hostile file controls is capped; past a cap the card is rejected
 * (its record says why) and reading goes on with the next card:
 * - a logical line (after unfolding): VCARD_LINE_MAX octets;
 * - the values kept of one card: VCARD_CARD_MAX octets (PHOTO, LOGO,
 *   SOUND, KEY and unknown properties are read and dropped, so they count
 *   only against the line cap);
 * - properties of one card: VCARD_PROPS_MAX;
 * - a UTF-16 file, read whole to convert it: VCARD_WIDE_MAX octets (else
 *   open fails). */
#ifndef CARTA_CLI_VCARD_H
#define CARTA_CLI_VCARD_H

#include <stddef.h>
#include <stdio.h>

#include "carta.pb-c.h"
#include "import.h"

#define VCARD_LINE_MAX	(1024 * 1024)
#define VCARD_CARD_MAX	(64 * 1024)
#define VCARD_PROPS_MAX 1000
#define VCARD_WIDE_MAX	(64 * 1024 * 1024)

/* Opens a reader of import_vcard_reader over data (borrowed: it must
 * outlive the source; close it with import_vcard_reader.close). For tests
 * and the fuzz driver. Returns 0, or -1 with err set. */
int vcard_open_mem(const void *data, size_t len, const import_opts *o,
		   import_src **out, char *err, size_t errlen);

/* Writes card as one vCard 4.0 (CRLF lines folded at 75 octets) to out,
 * with only what the card carries; what vCard has no property for
 * (status, home branch, custom values, a phone's original) goes in
 * X-CARTA- properties and parameters the reader takes back. Returns 0,
 * or -1 on a write error (or when memory runs out). */
int vcard_write(FILE *out, const Carta__V1__Card *card);

#endif
