/* Fuzz target: a vCard file, as `carta import vcard` reads it;
 * every card read is written back with vcard_write, as `carta export`
 * would. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "import.h"
#include "vcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	import_src *s = NULL;
	import_rec rec = {0};
	char err[256], *out = NULL;
	size_t outlen = 0;
	FILE *sink;

	if (vcard_open_mem(data, size, NULL, &s, err, sizeof err) != 0)
		return 0;
	sink = open_memstream(&out, &outlen);
	while (import_vcard_reader.next(s, &rec, err, sizeof err) == 1) {
		if (rec.card == NULL)
			continue;
		if (sink != NULL) {
			vcard_write(sink, rec.card);
			/* Keep the sink small: only the last card matters. */
			rewind(sink);
		}
		carta__v1__card__free_unpacked(rec.card, NULL);
		rec.card = NULL;
	}
	import_vcard_reader.close(s);
	if (sink != NULL)
		fclose(sink);
	free(out);
	return 0;
}
