/* Fuzz target: a card as JSON, as `carta customer add --from-json` reads
 * it from a file. */
#include <stddef.h>
#include <stdint.h>

#include "card_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Carta__V1__Card *card = NULL;
	char err[256];

	if (card_json_parse((const char *)data, size, &card, err,
			    sizeof(err)) == 0)
		carta__v1__card__free_unpacked(card, NULL);
	return 0;
}
