/* Fuzz target: a CSV file as `carta import csv` and `carta import
 * purchases` read it. The readers take a path, so the input goes to a
 * temporary file first. The first byte picks options (encoding, date
 * format, delimiter) so that those paths are fuzzed too. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/carta_csv_fuzz_XXXXXX";
	import_opts o = {.currency = "GBP"};
	static const char *const encodings[] = {NULL, "windows-1252", "utf-16",
						NULL};
	static const char *const formats[] = {NULL, "DD/MM/YYYY", "MM-DD-YYYY",
					      NULL};
	static const char delims[] = {0, ',', ';', '\t'};
	int fd;

	if (size == 0)
		return 0;
	o.encoding = encodings[data[0] & 3];
	o.date_format = formats[(data[0] >> 2) & 3];
	o.delimiter = delims[(data[0] >> 4) & 3];
	data++;
	size--;

	fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		fuzz_drain(&import_csv_reader, path, &o);
		fuzz_drain(&import_purchases_reader, path, &o);
	}
	close(fd);
	unlink(path);
	return 0;
}
