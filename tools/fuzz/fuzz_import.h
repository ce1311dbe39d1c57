/* What the import fuzz drivers share: reading a whole file through one of
 * carta import's readers, as the CLI does, and dropping every record. */
#ifndef CARTA_FUZZ_IMPORT_H
#define CARTA_FUZZ_IMPORT_H

#include <string.h>

#include "import.h"

static inline void fuzz_drain(const import_reader *r, const char *path,
			      const import_opts *o)
{
	import_src *s = NULL;
	import_rec rec;
	char err[256];
	unsigned long long done, total;

	memset(&rec, 0, sizeof rec);
	if (r->open(path, o, &s, err, sizeof err) != 0)
		return;
	while (r->next(s, &rec, err, sizeof err) == 1)
		import_rec_clear(&rec);
	r->progress(s, &done, &total);
	r->close(s);
}

#endif
