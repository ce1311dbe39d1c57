/* Fuzz target: profile text (an INI file holding keys) as read from disk. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	profile p;

	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (profile_parse(text, &p, err, sizeof(err)) == 0)
		profile_wipe(&p);
	free(text);
	return 0;
}
