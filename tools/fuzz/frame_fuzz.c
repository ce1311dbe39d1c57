/* Fuzz target: the frame decoder fed arbitrary bytes in arbitrary splits
 * (the first input byte picks the chunk size, the second the bound). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static frame_decoder dec;

	if (size < 2)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	size_t bound = (size_t)data[1] * 257 + 1;
	data += 2;
	size -= 2;

	frame_decoder_init(&dec, bound);
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t pos = 0;
		while (pos < n) {
			const uint8_t *p = NULL;
			size_t used = 0, len = 0;
			int rv = frame_decoder_feed(&dec, data + off + pos,
						    n - pos, &used, &p, &len);
			if (rv < 0)
				return 0;
			if (rv == 1 && (len == 0 || len > bound))
				abort();
			pos += used;
		}
		off += n;
	}
	return 0;
}
